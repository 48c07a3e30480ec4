using System.Diagnostics;

namespace CloudDevEnv.Api.Tests;

/// <summary>The docker command line, for looking at and into workspaces from outside as an operator would.</summary>
public static class DockerCli
{
    /// <returns>What the command printed.</returns>
    public static async Task<string> RunAsync(params string[] args)
    {
        var info = new ProcessStartInfo("docker");
        foreach (var arg in args)
        {
            info.ArgumentList.Add(arg);
        }

        await using var docker = ChildProcess.Start(info);
        await docker.WaitForExitAsync(CancellationToken.None);
        Assert.True(docker.ExitCode == 0, $"docker {string.Join(' ', args)} failed: {docker.Output}");
        return docker.Output;
    }
}
