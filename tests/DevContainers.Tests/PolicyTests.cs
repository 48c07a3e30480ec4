using System.Text.Json;
using Xunit;

namespace CloudDevEnv.DevContainers.Tests;

/// <summary>The policy that keeps the workspace: what the strict policy refuses (RunArgsTests, MountTests), a lenient one
/// leaves out and names, loading the rest; what an operator allows is kept.</summary>
public sealed class PolicyTests
{
    private static DevContainerConfig Load(TestRepository repo, DevContainerPolicy policy, params string[] runArgs) =>
        repo.LoadJson($$"""{ "image": "debian", "runArgs": {{JsonSerializer.Serialize(runArgs)}}, "containerEnv": { "KEPT": "yes" } }""", policy);

    [Theory]
    [InlineData(new[] { "--privileged" }, "runArgs: '--privileged'", "it gives the container full control of the host")]
    [InlineData(new[] { "--pid=host" }, "runArgs: '--pid=host'", "it shares the host's process namespace with the container")]
    [InlineData(new[] { "--network", "host" }, "runArgs: '--network host'", "it shares the host's network namespace with the container")]
    [InlineData(new[] { "--cap-add=SYS_ADMIN" }, "runArgs: '--cap-add=SYS_ADMIN'", "it allows mounting file systems and other ways out of the container")]
    [InlineData(new[] { "--security-opt", "seccomp=unconfined" }, "runArgs: '--security-opt seccomp=unconfined'", "it turns off the seccomp system call filter")]
    [InlineData(new[] { "--device", "/dev/kvm" }, "runArgs: '--device /dev/kvm'", "it gives the container access to host devices")]
    [InlineData(new[] { "--gpus", "all" }, "runArgs: '--gpus all'", "it gives the container access to host devices")]
    [InlineData(new[] { "-v", "/var/run/docker.sock:/var/run/docker.sock" }, "runArgs: '-v /var/run/docker.sock:/var/run/docker.sock'", "it bind-mounts a host path (use a named volume)")]
    [InlineData(new[] { "--env-file", ".env" }, "runArgs: '--env-file .env'", "it reads a file on the host")]
    [InlineData(new[] { "--sysctl", "net.ipv4.ip_forward=1" }, "runArgs: '--sysctl'", "not supported by CloudDevEnv")]
    [InlineData(new[] { "-x" }, "runArgs: '-x'", "not supported by CloudDevEnv")]
    public void A_setting_outside_the_policy_is_left_out_named_and_the_rest_loads(string[] runArgs, string setting, string why)
    {
        using var repo = new TestRepository();
        var config = Load(repo, DevContainerPolicy.Lenient, [.. runArgs, "--shm-size=1g", "--cap-add=SYS_PTRACE"]);

        var left = Assert.Single(config.LeftOut);
        Assert.Equal((setting, why), (left.Setting, left.Why));
        Assert.Equal($"{setting} was left out: {why}", left.ToString());
        Assert.Equal("yes", config.ContainerEnv["KEPT"]);
        Assert.Equal(1L << 30, config.RunOptions.ShmSizeBytes);
        Assert.Equal(["SYS_PTRACE"], config.RunOptions.CapAdd);
        Assert.Empty(config.RunOptions.SecurityOptions);
        Assert.Empty(config.RunOptions.Mounts);

        // The same under the strict policy: refused, the whole configuration with it.
        Assert.Throws<DevContainerConfigException>(() => Load(repo, DevContainerPolicy.Strict, runArgs));
    }

    [Fact]
    public void Real_world_settings_together_leave_the_configuration_running_without_them()
    {
        using var repo = new TestRepository();
        var config = repo.LoadJson("""
            {
              "image": "mcr.microsoft.com/devcontainers/base:bookworm",
              "privileged": true,
              "capAdd": ["SYS_PTRACE", "NET_ADMIN"],
              "securityOpt": ["seccomp=unconfined"],
              "runArgs": ["--init", "--gpus", "all"],
              "mounts": [
                "source=/var/run/docker.sock,target=/var/run/docker-host.sock,type=bind",
                "source=${devcontainerId}-history,target=/commandhistory,type=volume"
              ]
            }
            """, DevContainerPolicy.Lenient);

        Assert.Equal(
            new[] { "'mounts[0]'", "'privileged': true", "capAdd: 'NET_ADMIN'", "runArgs: '--gpus all'", "securityOpt: 'seccomp=unconfined'" },
            config.LeftOut.Select(l => l.Setting).Order(StringComparer.Ordinal));
        Assert.Equal(5, config.LeftOut.Count);
        Assert.Contains(config.LeftOut, l => l.Setting == "'mounts[0]'" && l.Why.StartsWith("it bind-mounts a host path", StringComparison.Ordinal));
        Assert.Equal("/commandhistory", Assert.Single(config.Mounts).Target);
        Assert.Equal(["SYS_PTRACE"], config.RunOptions.CapAdd);
        Assert.True(config.RunOptions.Init);
    }

    [Fact]
    public void What_the_operator_allows_is_kept()
    {
        using var repo = new TestRepository();
        var policy = DevContainerPolicy.Lenient with
        {
            AllowedCapabilities = new HashSet<string> { "NET_ADMIN" },
            AllowedSecurityOptions = new HashSet<string> { "seccomp=unconfined" },
        };
        var config = Load(repo, policy, "--cap-add=NET_ADMIN", "--security-opt", "seccomp:unconfined", "--cap-add=SYS_ADMIN");

        Assert.Equal(["NET_ADMIN"], config.RunOptions.CapAdd);
        Assert.Equal(["seccomp=unconfined"], config.RunOptions.SecurityOptions);
        Assert.Equal("runArgs: '--cap-add=SYS_ADMIN'", Assert.Single(config.LeftOut).Setting);

        // Strict and allowed: the allowed ones load, the rest still refuses.
        var strict = policy with { RefuseWhatIsLeftOut = true };
        Assert.Equal(["seccomp=unconfined"], Load(repo, strict, "--security-opt", "seccomp=unconfined").RunOptions.SecurityOptions);
        Assert.Throws<DevContainerConfigException>(() => Load(repo, strict, "--cap-add=SYS_ADMIN"));
    }
}
