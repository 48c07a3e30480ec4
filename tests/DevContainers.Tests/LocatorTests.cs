using Xunit;

namespace CloudDevEnv.DevContainers.Tests;

public sealed class LocatorTests
{
    private const string Minimal = """{ "image": "debian" }""";

    [Fact]
    public void Missing_configuration_gives_null()
    {
        using var repo = new TestRepository().With("README.md", "hello").With(".devcontainer/notes.txt", "x");
        Assert.Null(DevContainerConfigLoader.Locate(repo.Folder));
        Assert.Null(DevContainerConfigLoader.Load(repo.Folder, LocalContext.Empty));
    }

    [Fact]
    public void Missing_repository_folder_is_an_argument_error()
    {
        Assert.Throws<DirectoryNotFoundException>(() =>
            DevContainerConfigLoader.Load(Path.Combine(Path.GetTempPath(), Guid.NewGuid().ToString("N")), LocalContext.Empty));
    }

    [Fact]
    public void Prefers_the_devcontainer_folder_then_the_root_file_then_named_folders()
    {
        using var repo = new TestRepository()
            .With(".devcontainer/devcontainer.json", Minimal)
            .With(".devcontainer.json", Minimal)
            .With(".devcontainer/b/devcontainer.json", Minimal);
        Assert.Equal(DevContainerConfigPlacement.DevContainerFolder, DevContainerConfigLoader.Locate(repo.Folder)!.Placement);

        File.Delete(repo.PathOf(".devcontainer/devcontainer.json"));
        var root = DevContainerConfigLoader.Locate(repo.Folder)!;
        Assert.Equal(DevContainerConfigPlacement.RepositoryRoot, root.Placement);
        Assert.Equal(".devcontainer.json", root.RelativePath);

        File.Delete(repo.PathOf(".devcontainer.json"));
        var named = DevContainerConfigLoader.Locate(repo.Folder)!;
        Assert.Equal(DevContainerConfigPlacement.NamedFolder, named.Placement);
        Assert.Equal("b", named.Name);
    }

    [Fact]
    public void Picks_the_first_named_folder_in_ordinal_order_and_lists_the_others()
    {
        using var repo = new TestRepository()
            .With(".devcontainer/python/devcontainer.json", Minimal)
            .With(".devcontainer/Node/devcontainer.json", Minimal)
            .With(".devcontainer/go/devcontainer.json", Minimal)
            .With(".devcontainer/empty/README.md", "no config here");
        var location = DevContainerConfigLoader.Locate(repo.Folder)!;
        Assert.Equal("Node", location.Name);
        Assert.Equal(["Node", "go", "python"], location.AvailableNames);
        Assert.Equal(".devcontainer/Node/devcontainer.json", location.RelativePath);
    }

    [Fact]
    public void A_named_configuration_can_be_asked_for()
    {
        using var repo = new TestRepository()
            .With(".devcontainer/devcontainer.json", Minimal)
            .With(".devcontainer/python/devcontainer.json", """{ "image": "python:3" }""");
        var config = repo.Load(name: "python");
        Assert.Equal("python:3", config.Image);
        Assert.Equal("python", config.Location.Name);
    }

    [Theory]
    [InlineData("ruby")]
    [InlineData("../python")]
    [InlineData("")]
    public void An_unknown_name_is_an_error_listing_the_available_ones(string name)
    {
        using var repo = new TestRepository().With(".devcontainer/python/devcontainer.json", Minimal);
        var error = Assert.Throws<DevContainerConfigException>(() => DevContainerConfigLoader.Locate(repo.Folder, name));
        Assert.Contains($"no configuration named '{name}'", error.Message);
        Assert.Contains("available: python", error.Message);
    }

    [Fact]
    public void A_configuration_linking_outside_the_repository_is_refused()
    {
        using var outside = new TestRepository("outside").With("secret.json", Minimal);
        using var repo = new TestRepository();
        Directory.CreateDirectory(repo.PathOf(".devcontainer"));
        File.CreateSymbolicLink(repo.PathOf(".devcontainer/devcontainer.json"), outside.PathOf("secret.json"));
        var error = Assert.Throws<DevContainerConfigException>(() => DevContainerConfigLoader.Locate(repo.Folder));
        Assert.Contains("outside the repository", error.Message);
    }

    [Fact]
    public void A_link_inside_the_repository_is_fine()
    {
        using var repo = new TestRepository().With("configs/dev.json", Minimal);
        Directory.CreateDirectory(repo.PathOf(".devcontainer"));
        File.CreateSymbolicLink(repo.PathOf(".devcontainer/devcontainer.json"), "../configs/dev.json");
        Assert.Equal("debian", repo.Load().Image);
    }
}
