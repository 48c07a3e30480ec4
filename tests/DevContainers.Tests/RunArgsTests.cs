using System.Text.Json;
using Xunit;

namespace CloudDevEnv.DevContainers.Tests;

public sealed class RunArgsTests
{
    private static DevContainerConfig Load(TestRepository repo, params string[] runArgs) =>
        repo.LoadJson($$"""{ "image": "debian", "runArgs": {{JsonSerializer.Serialize(runArgs)}} }""");

    [Fact]
    public void Accepts_the_safe_subset_as_structured_options()
    {
        using var repo = new TestRepository();
        var options = Load(repo,
            "--env", "A=1", "-e", "B=two=2", "--env=C=", "-eD=d",
            "--label", "team=web", "-l", "flag",
            "--memory=4g", "--cpus", "1.5", "--shm-size", "256m",
            "--hostname", "devbox", "--add-host", "db:10.0.0.5", "--add-host=gw=host-gateway",
            "--init", "--user", "1000:1000",
            "--cap-add=SYS_PTRACE", "--cap-add", "cap_net_bind_service", "--cap-drop=ALL",
            "--security-opt", "no-new-privileges",
            "-v", "node-modules:/app/node_modules", "--volume=/anonymous",
            "--mount", "type=volume,source=cache,target=/cache,readonly", "--tmpfs", "/run:rw,size=64m",
            "-it", "--rm", "--name", "mine", "-p", "3000:3000", "--network=bridge").RunOptions;

        Assert.Equal(new Dictionary<string, string> { ["A"] = "1", ["B"] = "two=2", ["C"] = "", ["D"] = "d" }, options.Environment);
        Assert.Equal(new Dictionary<string, string> { ["team"] = "web", ["flag"] = "" }, options.Labels);
        Assert.Equal(4L << 30, options.MemoryBytes);
        Assert.Equal(1.5, options.Cpus);
        Assert.Equal(256L << 20, options.ShmSizeBytes);
        Assert.Equal("devbox", options.Hostname);
        Assert.Equal([new HostEntry("db", "10.0.0.5"), new HostEntry("gw", "host-gateway")], options.ExtraHosts);
        Assert.True(options.Init);
        Assert.Equal("1000:1000", options.User);
        Assert.Equal(["SYS_PTRACE", "NET_BIND_SERVICE"], options.CapAdd);
        Assert.Equal(["ALL"], options.CapDrop);
        Assert.Equal(["no-new-privileges"], options.SecurityOptions);
        Assert.Equal(4, options.Mounts.Count);
        Assert.Equal(new DevContainerMount(DevContainerMountType.Volume, "node-modules", "/app/node_modules", false, []), options.Mounts[0]);
        Assert.Equal((DevContainerMountType.Volume, (string?)null, "/anonymous"), (options.Mounts[1].Type, options.Mounts[1].Source, options.Mounts[1].Target));
        Assert.True(options.Mounts[2].ReadOnly);
        Assert.Equal(DevContainerMountType.Tmpfs, options.Mounts[3].Type);
        Assert.Equal(["tmpfs-size=64m"], options.Mounts[3].Options);
        Assert.Equal(["-i", "-t", "--rm", "--name mine", "-p 3000:3000", "--network=bridge"], options.IgnoredArguments);
    }

    [Theory]
    [InlineData(new[] { "--privileged" }, "'--privileged' is not allowed: it gives the container full control of the host")]
    [InlineData(new[] { "--privileged=true" }, "'--privileged' is not allowed")]
    [InlineData(new[] { "--pid=host" }, "'--pid=host' is not allowed: it shares the host's process namespace")]
    [InlineData(new[] { "--pid", "host" }, "'--pid host' is not allowed")]
    [InlineData(new[] { "--network=host" }, "'--network=host' is not allowed: it shares the host's network namespace")]
    [InlineData(new[] { "--net", "host" }, "'--net host' is not allowed")]
    [InlineData(new[] { "--network=container:other" }, "joins another container's network namespace")]
    [InlineData(new[] { "--ipc=host" }, "'--ipc=host' is not allowed: it shares the host's IPC namespace")]
    [InlineData(new[] { "--uts=host" }, "'--uts=host' is not allowed")]
    [InlineData(new[] { "--userns=host" }, "'--userns=host' is not allowed: it shares the host's user namespace")]
    [InlineData(new[] { "--cgroupns=host" }, "'--cgroupns=host' is not allowed")]
    [InlineData(new[] { "--cap-add=SYS_ADMIN" }, "'--cap-add=SYS_ADMIN' is not allowed: it allows mounting file systems")]
    [InlineData(new[] { "--cap-add", "ALL" }, "'--cap-add ALL' is not allowed: it grants every capability")]
    [InlineData(new[] { "--cap-add=CAP_SYS_MODULE" }, "'--cap-add=CAP_SYS_MODULE' is not allowed: only")]
    [InlineData(new[] { "--cap-add=NET_ADMIN" }, "'--cap-add=NET_ADMIN' is not allowed")]
    [InlineData(new[] { "--security-opt", "seccomp=unconfined" }, "'--security-opt seccomp=unconfined' is not allowed: it turns off the seccomp")]
    [InlineData(new[] { "--security-opt=seccomp:unconfined" }, "is not allowed: it turns off the seccomp")]
    [InlineData(new[] { "--security-opt", "apparmor=unconfined" }, "'--security-opt apparmor=unconfined' is not allowed: it turns off AppArmor")]
    [InlineData(new[] { "--security-opt", "label=disable" }, "turns off SELinux")]
    [InlineData(new[] { "--security-opt", "seccomp=/etc/profile.json" }, "custom seccomp profiles are not supported")]
    [InlineData(new[] { "--device", "/dev/kvm" }, "'--device /dev/kvm' is not allowed: it gives the container access to host devices")]
    [InlineData(new[] { "--device=/dev/fuse" }, "'--device=/dev/fuse' is not allowed")]
    [InlineData(new[] { "--gpus", "all" }, "'--gpus all' is not allowed")]
    [InlineData(new[] { "-v", "/var/run/docker.sock:/var/run/docker.sock" }, "'-v /var/run/docker.sock:/var/run/docker.sock' is not allowed: it bind-mounts a host path")]
    [InlineData(new[] { "--volume=/home:/host-home:ro" }, "'--volume=/home:/host-home:ro' is not allowed: it bind-mounts a host path")]
    [InlineData(new[] { "-v", "./cache:/cache" }, "bind-mounts a host path")]
    [InlineData(new[] { "-v", "${localEnv:HOME}:/h" }, "bind-mounts a host path")]
    [InlineData(new[] { "--mount", "type=bind,source=/,target=/host" }, "'--mount type=bind,source=/,target=/host' is not allowed: it bind-mounts a host path")]
    [InlineData(new[] { "--mount", "type=volume,source=x,target=/x,volume-opt=device=/etc" }, "the mount option 'volume-opt' can bind host paths")]
    [InlineData(new[] { "--volumes-from", "other" }, "shares another container's volumes")]
    [InlineData(new[] { "--env-file", ".env" }, "'--env-file .env' is not allowed: it reads a file on the host")]
    [InlineData(new[] { "-e", "HOME" }, "'-e HOME' is not allowed: write NAME=VALUE")]
    [InlineData(new[] { "--label", "dev.clouddevenv.workspace-id=victim" }, "reserved for CloudDevEnv")]
    [InlineData(new[] { "--sysctl", "net.ipv4.ip_forward=1" }, "'--sysctl' is not supported by CloudDevEnv")]
    [InlineData(new[] { "--runtime=runc" }, "'--runtime' is not supported")]
    [InlineData(new[] { "-x" }, "'-x' is not supported")]
    [InlineData(new[] { "--memory" }, "'--memory' needs a value")]
    [InlineData(new[] { "--memory", "lots" }, "'--memory lots' is not a size")]
    [InlineData(new[] { "debian" }, "unexpected argument 'debian'")]
    public void Refuses_arguments_naming_them(string[] runArgs, string message)
    {
        using var repo = new TestRepository();
        var error = Assert.Throws<DevContainerConfigException>(() => Load(repo, runArgs));
        Assert.Contains(message, error.Reason);
        Assert.StartsWith("runArgs: ", error.Reason);
        Assert.Equal(1, error.Line);
    }

    [Fact]
    public void A_refusal_points_at_the_argument()
    {
        using var repo = new TestRepository();
        var error = Assert.Throws<DevContainerConfigException>(() => repo.LoadJson("""
            {
              "image": "debian",
              "runArgs": [
                "--init",
                "--privileged"
              ]
            }
            """));
        Assert.Equal((5, 5), (error.Line, error.Column));
        Assert.Equal(".devcontainer/devcontainer.json:5:5: runArgs: '--privileged' is not allowed: it gives the container full control of the host", error.Message);
    }

    [Theory]
    [InlineData("\"privileged\": true", "'privileged': true is not allowed")]
    [InlineData("\"capAdd\": [\"SYS_ADMIN\"]", "capAdd: 'SYS_ADMIN' is not allowed")]
    [InlineData("\"securityOpt\": [\"seccomp=unconfined\"]", "securityOpt: 'seccomp=unconfined' is not allowed")]
    public void The_equivalent_properties_follow_the_same_rules(string property, string message)
    {
        using var repo = new TestRepository();
        var error = Assert.Throws<DevContainerConfigException>(() => repo.LoadJson($$"""{ "image": "debian", {{property}} }"""));
        Assert.Contains(message, error.Reason);
    }

    [Fact]
    public void The_equivalent_properties_are_merged_into_run_options()
    {
        using var repo = new TestRepository();
        var options = repo.LoadJson("""
            { "image": "debian", "init": true, "privileged": false, "capAdd": ["SYS_PTRACE"], "securityOpt": ["no-new-privileges:true"] }
            """).RunOptions;
        Assert.True(options.Init);
        Assert.Equal(["SYS_PTRACE"], options.CapAdd);
        Assert.Equal(["no-new-privileges"], options.SecurityOptions);
    }
}
