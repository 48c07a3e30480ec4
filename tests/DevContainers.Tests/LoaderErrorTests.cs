using Xunit;

namespace CloudDevEnv.DevContainers.Tests;

public sealed class LoaderErrorTests
{
    [Fact]
    public void A_malformed_file_reports_path_line_and_column()
    {
        using var repo = new TestRepository();
        var error = Assert.Throws<DevContainerConfigException>(() => repo.LoadJson("""
            {
              // the base image
              "image": "debian",
              "forwardPorts": [3000 8080]
            }
            """));
        Assert.Equal(repo.PathOf(".devcontainer/devcontainer.json"), error.Path);
        Assert.Equal(4, error.Line);
        Assert.Equal(25, error.Column);
        Assert.Equal(".devcontainer/devcontainer.json:4:25: expected ',' or ']' after an array element but found '8'", error.Message);
    }

    [Fact]
    public void A_wrong_type_points_at_the_value()
    {
        using var repo = new TestRepository();
        var error = Assert.Throws<DevContainerConfigException>(() => repo.LoadJson("{\n  \"image\": 42\n}"));
        Assert.Equal((2, 12), (error.Line, error.Column));
        Assert.Equal("'image' must be a string, not a number", error.Reason);
    }

    [Fact]
    public void The_top_level_value_must_be_an_object()
    {
        using var repo = new TestRepository();
        var error = Assert.Throws<DevContainerConfigException>(() => repo.LoadJson("[1]"));
        Assert.Contains("must contain a JSON object", error.Reason);
    }

    [Fact]
    public void An_empty_file_is_an_error()
    {
        using var repo = new TestRepository();
        var error = Assert.Throws<DevContainerConfigException>(() => repo.LoadJson(""));
        Assert.Contains("the file is empty", error.Message);
    }

    [Fact]
    public void A_huge_file_is_refused()
    {
        using var repo = new TestRepository();
        var text = "{\"image\": \"debian\", \"x\": \"" + new string('a', (int)DevContainerConfigLoader.MaxConfigFileBytes) + "\"}";
        var error = Assert.Throws<DevContainerConfigException>(() => repo.LoadJson(text));
        Assert.Contains("larger than", error.Message);
    }

    [Fact]
    public void A_byte_order_mark_is_accepted()
    {
        using var repo = new TestRepository();
        Assert.Equal("debian", repo.LoadJson("\uFEFF{\"image\": \"debian\"}").Image);
    }
}
