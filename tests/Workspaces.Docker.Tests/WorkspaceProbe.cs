using Docker.DotNet.Models;

namespace CloudDevEnv.Workspaces.Docker.Tests;

/// <summary>Looks at workspaces from outside: grain status, commands inside the container, the engine's view.</summary>
public sealed class WorkspaceProbe(WorkspaceClusterFixture fixture)
{
    private static readonly HttpClient Http = new(new SocketsHttpHandler { UseProxy = false, AllowAutoRedirect = false }) { Timeout = TimeSpan.FromSeconds(10) };

    /// <param name="hooksDone">For Running: also wait for the lifecycle commands after <c>waitFor</c> (postCreateCommand,
    /// postStartCommand), which go on in the background once the workspace is Running.</param>
    public async Task<WorkspaceStatus> PhaseAsync(IWorkspaceGrain grain, WorkspacePhase phase, int seconds = 90, bool hooksDone = true)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(seconds);
        var status = await grain.GetStatusAsync();
        while (status.Phase != phase || (hooksDone && status.HooksRunning))
        {
            // A failed workspace that nobody asked to do anything else will not move: say so at once. One asked to be
            // deleted is still Failed until its loop takes the first step, so it is waited for like any other.
            if (DateTime.UtcNow > deadline || (status.Phase == WorkspacePhase.Failed && status.Desired == DesiredState.Running && phase != WorkspacePhase.Failed))
            {
                var events = string.Join("\n  ", status.RecentEvents.TakeLast(60).Select(e => $"{e.Kind} {e.Phase}: {e.Message}"));
                Assert.Fail($"Expected {phase} but the workspace is {status.Phase} ({status.Reason}). Events:\n  {events}");
            }

            await Task.Delay(100);
            status = await grain.GetStatusAsync();
        }

        return status;
    }

    /// <summary>Runs a shell script inside the workspace; returns its output, asserting success.</summary>
    public async Task<string> ShAsync(string workspaceId, string script, string? user = null)
    {
        var result = await TryShAsync(workspaceId, script, user);
        Assert.True(result.ExitCode == 0, $"`{script}` failed with {result.ExitCode}: {result.OutputTail}");
        return result.OutputTail.Trim();
    }

    public Task<ExecResult> TryShAsync(string workspaceId, string script, string? user = null) =>
        fixture.Runtime.ExecAsync(workspaceId, new ExecRequest(["/bin/sh", "-c", script], User: user), new Progress<string>(), CancellationToken.None);

    /// <summary>GETs the IDE through the workspace gateway's published 127.0.0.1 port, with its secret, as the proxy
    /// does; true when it answers below 500.</summary>
    public async Task<bool> IdeAnswersAsync(IWorkspaceGrain grain)
    {
        var route = await grain.GetRouteAsync();
        if (route.Gateway is not { } gateway)
        {
            return false;
        }

        Assert.Equal("127.0.0.1", gateway.Host);
        try
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, gateway);
            request.Headers.Add(GatewayProtocol.SecretHeader, route.GatewaySecret);
            request.Headers.Add(GatewayProtocol.TargetHeader, GatewayProtocol.IdeTarget);
            using var response = await Http.SendAsync(request);
            return (int)response.StatusCode < 500;
        }
        catch (HttpRequestException)
        {
            return false;
        }
    }

    public async Task<int> VolumeCountAsync(string workspaceId)
    {
        var volumes = await fixture.Engine.Volumes.ListAsync(new VolumesListParameters
        {
            Filters = new Dictionary<string, IDictionary<string, bool>>
            {
                ["label"] = new Dictionary<string, bool> { [$"{RuntimeLabels.WorkspaceId}={workspaceId}"] = true },
            },
        });
        return volumes.Volumes?.Count ?? 0;
    }
}
