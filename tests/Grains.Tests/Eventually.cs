namespace CloudDevEnv.Grains.Tests;

/// <summary>Waits for the reconcile loop: polls the grain until a condition holds or the time is up.</summary>
public static class Eventually
{
    public static async Task<WorkspaceStatus> PhaseAsync(IWorkspaceGrain grain, WorkspacePhase phase, TimeSpan? timeout = null)
    {
        var status = await grain.GetStatusAsync();
        var deadline = DateTime.UtcNow + (timeout ?? TimeSpan.FromSeconds(10));
        while (status.Phase != phase)
        {
            if (DateTime.UtcNow > deadline)
            {
                var events = string.Join("\n  ", status.RecentEvents.Select(e => $"{e.Kind} {e.Phase}: {e.Message}"));
                Assert.Fail($"Expected {phase} but the workspace is {status.Phase} ({status.Reason}). Events:\n  {events}");
            }

            await Task.Delay(20);
            status = await grain.GetStatusAsync();
        }

        return status;
    }

    /// <summary>Waits until the workspace is Running with its hooks after <c>waitFor</c> done.</summary>
    public static async Task<WorkspaceStatus> HooksDoneAsync(IWorkspaceGrain grain)
    {
        await PhaseAsync(grain, WorkspacePhase.Running);
        await TrueAsync(async () => !(await grain.GetStatusAsync()).HooksRunning, "the hooks after waitFor");
        return await grain.GetStatusAsync();
    }

    public static async Task TrueAsync(Func<Task<bool>> condition, string what, TimeSpan? timeout = null)
    {
        var deadline = DateTime.UtcNow + (timeout ?? TimeSpan.FromSeconds(10));
        while (!await condition())
        {
            if (DateTime.UtcNow > deadline)
            {
                Assert.Fail($"Timed out waiting for {what}.");
            }

            await Task.Delay(20);
        }
    }

    /// <summary>Waits until the reconcile loop has looked at the workspace's container <paramref name="count"/> more times
    /// (each health check inspects it): the positive sign that it saw what the test just changed, and decided.</summary>
    public static async Task HealthChecksAsync(WorkspaceRuntimeDouble runtime, IWorkspaceGrain grain, int count = 2)
    {
        var id = grain.GetPrimaryKeyString();
        var target = runtime.Calls(nameof(IWorkspaceRuntime.InspectAsync), id) + count;
        await TrueAsync(() => Task.FromResult(runtime.Calls(nameof(IWorkspaceRuntime.InspectAsync), id) >= target), $"{count} health checks of {id}");
    }
}
