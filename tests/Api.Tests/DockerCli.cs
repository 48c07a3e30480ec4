using System.Diagnostics;

namespace CloudDevEnv.Api.Tests;

/// <summary>The docker command line, for looking at and into workspaces from outside as an operator would.</summary>
public static class DockerCli
{
    /// <returns>What the command printed; the test fails if it failed.</returns>
    public static async Task<string> RunAsync(params string[] args)
    {
        var (exitCode, output) = await TryRunAsync(args);
        Assert.True(exitCode == 0, $"docker {string.Join(' ', args)} failed: {output}");
        return output;
    }

    /// <returns>The exit code and what the command printed, whatever they are.</returns>
    public static async Task<(int ExitCode, string Output)> TryRunAsync(params string[] args)
    {
        var info = new ProcessStartInfo("docker");
        foreach (var arg in args)
        {
            info.ArgumentList.Add(arg);
        }

        await using var docker = ChildProcess.Start(info);
        await docker.WaitForExitAsync(CancellationToken.None);
        return (docker.ExitCode, docker.Output);
    }
}
