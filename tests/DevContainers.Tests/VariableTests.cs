using Xunit;

namespace CloudDevEnv.DevContainers.Tests;

public sealed class VariableTests
{
    private static readonly Dictionary<string, string> Env = new()
    {
        ["TAG"] = "bookworm",
        ["EMPTY"] = "",
        ["NESTED"] = "${containerEnv:HOME}/x",
    };

    private static DevContainerConfig LoadEnv(TestRepository repo, string containerEnvJson) =>
        repo.LoadJson($$"""{ "image": "debian", "containerEnv": {{containerEnvJson}} }""", Env);

    [Theory]
    [InlineData("${localEnv:TAG}", "bookworm")]
    [InlineData("${env:TAG}", "bookworm")]
    [InlineData("${localEnv:MISSING}", "")]
    [InlineData("${localEnv:MISSING:fallback}", "fallback")]
    [InlineData("${localEnv:TAG:fallback}", "bookworm")]
    [InlineData("${localEnv:EMPTY:fallback}", "")]
    [InlineData("${localEnv:MISSING:}", "")]
    // The CLI splits on every ':', so a default stops at the next one.
    [InlineData("${localEnv:MISSING:localhost:8080}", "localhost")]
    [InlineData("pre-${localEnv:TAG}-${localEnv:MISSING:x}-post", "pre-bookworm-x-post")]
    [InlineData("${localEnv:tag}", "")]
    [InlineData("${unknownVariable}", "${unknownVariable}")]
    [InlineData("${localWorkspaceFolderBasename}", "sample-repo")]
    [InlineData("${containerWorkspaceFolder}", "/workspaces/sample-repo")]
    [InlineData("${containerWorkspaceFolderBasename}", "sample-repo")]
    [InlineData("$${localEnv:TAG}}", "$bookworm}")]
    public void Local_variables_resolve_like_the_reference_cli(string value, string expected)
    {
        using var repo = new TestRepository();
        var config = LoadEnv(repo, $$"""{ "V": "{{value}}" }""");
        Assert.Equal(expected, config.ContainerEnv["V"]);
    }

    [Fact]
    public void Local_workspace_folder_is_the_repository_unless_the_context_says_otherwise()
    {
        using var repo = new TestRepository();
        repo.With(".devcontainer/devcontainer.json",
            """{ "image": "debian", "containerEnv": { "L": "${localWorkspaceFolder}", "B": "${localWorkspaceFolderBasename}", "W": "${containerWorkspaceFolder}" } }""");
        var config = DevContainerConfigLoader.Load(repo.Folder, LocalContext.Empty)!;
        Assert.Equal(repo.Folder, config.ContainerEnv["L"]);

        var moved = DevContainerConfigLoader.Load(repo.Folder, new LocalContext { LocalWorkspaceFolder = "/srv/checkouts/my-app/" })!;
        Assert.Equal("/srv/checkouts/my-app", moved.ContainerEnv["L"]);
        Assert.Equal("my-app", moved.ContainerEnv["B"]);
        Assert.Equal("/workspaces/my-app", moved.ContainerEnv["W"]);
        Assert.Equal("/workspaces/my-app", moved.WorkspaceFolder);
    }

    [Fact]
    public void A_workspace_folder_with_variables_feeds_container_workspace_folder()
    {
        using var repo = new TestRepository();
        var config = repo.LoadJson("""
            {
              "image": "debian",
              "workspaceFolder": "/src/${localWorkspaceFolderBasename}-${localEnv:TAG}",
              "containerEnv": { "W": "${containerWorkspaceFolder}", "B": "${containerWorkspaceFolderBasename}" }
            }
            """, Env);
        Assert.Equal("/src/sample-repo-bookworm", config.WorkspaceFolder);
        Assert.Equal("/src/sample-repo-bookworm", config.ContainerEnv["W"]);
        Assert.Equal("sample-repo-bookworm", config.ContainerEnv["B"]);
    }

    [Fact]
    public void Variables_in_property_names_are_left_alone()
    {
        using var repo = new TestRepository();
        var config = LoadEnv(repo, """{ "${localEnv:TAG}": "x" }""");
        Assert.Equal("x", config.ContainerEnv["${localEnv:TAG}"]);
    }

    [Fact]
    public void An_environment_variable_without_a_name_is_an_error_at_its_position()
    {
        using var repo = new TestRepository();
        var error = Assert.Throws<DevContainerConfigException>(() => repo.LoadJson("{\n  \"image\": \"debian:${localEnv}\"\n}"));
        Assert.Equal((2, 12), (error.Line, error.Column));
        Assert.Contains("'${localEnv}' cannot be resolved because no environment variable name is given", error.Reason);
    }

    [Fact]
    public void Container_environment_is_left_for_the_running_container()
    {
        using var repo = new TestRepository();
        var config = repo.LoadJson("""
            {
              "image": "debian",
              "remoteEnv": { "PATH": "${containerEnv:PATH}:/opt/tools", "G": "${containerEnv:GOPATH:/go}", "U": null },
              "containerEnv": { "FROM_LOCAL": "${localEnv:NESTED}" }
            }
            """, Env);
        Assert.Equal("${containerEnv:PATH}:/opt/tools", config.RemoteEnv["PATH"]);
        Assert.Null(config.RemoteEnv["U"]);

        var running = config.WithContainerEnvironment(new Dictionary<string, string> { ["PATH"] = "/usr/bin:/bin", ["HOME"] = "/root" });
        Assert.Equal("/usr/bin:/bin:/opt/tools", running.RemoteEnv["PATH"]);
        Assert.Equal("/go", running.RemoteEnv["G"]);
        Assert.Null(running.RemoteEnv["U"]);
        // Text a local variable brought in is substituted by the later pass too, as in the CLI.
        Assert.Equal("/root/x", running.ContainerEnv["FROM_LOCAL"]);
        Assert.Equal(config.DevContainerId, running.DevContainerId);
    }

    [Fact]
    public void Devcontainer_id_is_substituted_at_load()
    {
        using var repo = new TestRepository();
        var config = repo.LoadJson("""
            { "image": "debian", "mounts": ["source=cache-${devcontainerId},target=/cache,type=volume"] }
            """);
        Assert.Equal(52, config.DevContainerId.Length);
        Assert.Equal("cache-" + config.DevContainerId, config.Mounts[0].Source);
        Assert.Equal(DevContainerId.ForWorkspace(repo.Folder, repo.PathOf(".devcontainer/devcontainer.json")), config.DevContainerId);
    }

    [Fact]
    public void Devcontainer_id_can_come_from_the_callers_labels()
    {
        using var repo = new TestRepository();
        repo.With(".devcontainer/devcontainer.json", """{ "image": "debian", "containerEnv": { "ID": "${devcontainerId}" } }""");
        var labels = new Dictionary<string, string> { ["clouddevenv.workspace"] = "ada-quick-otter-7f3k2" };
        var config = DevContainerConfigLoader.Load(repo.Folder, new LocalContext { IdLabels = labels })!;
        Assert.Equal("16mfo09jdptguthi376cah3u96jcm3vcioguvd9rsv1jj410m6m8", config.ContainerEnv["ID"]);
    }
}
