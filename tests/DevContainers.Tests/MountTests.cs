using Xunit;

namespace CloudDevEnv.DevContainers.Tests;

public sealed class MountTests
{
    [Fact]
    public void Parses_the_docker_mount_syntax()
    {
        var mount = DevContainerMount.Parse("src=data,dst=/data,type=volume,ro,volume-nocopy");
        Assert.Equal(DevContainerMountType.Volume, mount.Type);
        Assert.Equal("data", mount.Source);
        Assert.Equal("/data", mount.Target);
        Assert.True(mount.ReadOnly);
        Assert.Equal(["volume-nocopy"], mount.Options);
    }

    [Fact]
    public void Quoted_fields_may_hold_commas_and_round_trip()
    {
        var mount = DevContainerMount.Parse("type=volume,\"source=a,b\",target=/x,readonly=false");
        Assert.Equal("a,b", mount.Source);
        Assert.False(mount.ReadOnly);
        Assert.Equal("type=volume,\"source=a,b\",target=/x", mount.ToMountArgument());
        Assert.Equal(mount, DevContainerMount.Parse(mount.ToMountArgument()) with { Options = mount.Options });
    }

    [Fact]
    public void The_type_defaults_to_volume_as_in_docker()
    {
        Assert.Equal(DevContainerMountType.Volume, DevContainerMount.Parse("target=/x").Type);
    }

    [Theory]
    [InlineData("source=x")]
    [InlineData("type=npipe,target=/x")]
    [InlineData("type=volume,target=/x,readonly=maybe")]
    [InlineData("\"type=volume,target=/x")]
    public void Malformed_mounts_are_format_errors(string text)
    {
        Assert.Throws<FormatException>(() => DevContainerMount.Parse(text));
    }

    [Fact]
    public void Reads_string_and_object_forms()
    {
        using var repo = new TestRepository();
        var mounts = repo.LoadJson("""
            {
              "image": "debian",
              "mounts": [
                "source=${localWorkspaceFolderBasename}-cache,target=/cache,type=volume",
                { "type": "volume", "source": "home", "target": "/home/dev" },
                { "type": "tmpfs", "target": "/scratch" },
                "type=tmpfs,target=/run/x,tmpfs-size=1m"
              ]
            }
            """).Mounts;
        Assert.Equal(4, mounts.Count);
        Assert.Equal(("sample-repo-cache", "/cache"), (mounts[0].Source, mounts[0].Target));
        Assert.Equal(new DevContainerMount(DevContainerMountType.Volume, "home", "/home/dev", false, []), mounts[1]);
        Assert.Equal(DevContainerMountType.Tmpfs, mounts[2].Type);
        Assert.Equal(["tmpfs-size=1m"], mounts[3].Options);
    }

    [Theory]
    [InlineData("\"source=/var/run/docker.sock,target=/var/run/docker.sock,type=bind\"", "'mounts[0]' is not allowed: it bind-mounts a host path")]
    [InlineData("{ \"type\": \"bind\", \"source\": \"${localWorkspaceFolder}\", \"target\": \"/w\" }", "it bind-mounts a host path")]
    [InlineData("\"type=volume,source=x,target=/x,volume-driver=local\"", "'volume-driver' can bind host paths")]
    [InlineData("\"type=volume,source=x,target=/x,bind-propagation=shared\"", "'bind-propagation' is not supported")]
    [InlineData("{ \"source\": \"x\", \"target\": \"/x\" }", "'mounts[0]' needs a type")]
    [InlineData("{ \"type\": \"volume\", \"source\": \"x\" }", "'mounts[0]' needs a target")]
    [InlineData("\"type=volume,source=x\"", "'mounts[0]': mount 'type=volume,source=x' has no target")]
    [InlineData("42", "'mounts[0]' must be a string or an object")]
    public void Refuses_host_paths_and_malformed_mounts(string mount, string message)
    {
        using var repo = new TestRepository();
        var error = Assert.Throws<DevContainerConfigException>(() => repo.LoadJson($$"""{ "image": "debian", "mounts": [{{mount}}] }"""));
        Assert.Contains(message, error.Reason);
    }
}
