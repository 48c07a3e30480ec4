using Xunit;

namespace CloudDevEnv.DevContainers.Tests;

/// <summary>Expected values were computed with the reference CLI's own function under Node.js.</summary>
public sealed class DevContainerIdTests
{
    [Fact]
    public void Matches_the_cli_for_its_default_labels()
    {
        Assert.Equal("08b2rn2g1uvptejnr4l3mg9mrheuro35g9g0a973b4pm2jrf8be1",
            DevContainerId.ForWorkspace("/tmp/dc1", "/tmp/dc1/.devcontainer/devcontainer.json"));
    }

    [Fact]
    public void Matches_the_cli_for_escaped_and_non_ascii_text()
    {
        var labels = new Dictionary<string, string>
        {
            ["b"] = "x\"y\\z\n\t\u0001é😀",
            ["a"] = "\ud800",
            ["Z"] = "",
        };
        Assert.Equal("10cqem1u4kbg2c5vid8m626gv6kt2qupsggmtpi8p2kolc36pklg", DevContainerId.Compute(labels));
    }

    [Fact]
    public void Keeps_leading_zeros_to_52_digits()
    {
        Assert.Equal("0h0jduhlbcr7h88kdb8muvk697kkvd7s47v7fq1h1g30uoealvsa", DevContainerId.Compute(new Dictionary<string, string>()));
    }
}
