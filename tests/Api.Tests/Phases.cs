namespace CloudDevEnv.Api.Tests;

/// <summary>Waits, through the API as a user would, for a workspace to reach a phase.</summary>
public static class Phases
{
    /// <param name="context">More to say when the wait fails (e.g. the host process's output).</param>
    public static async Task<JsonElement> WaitAsync(HttpClient user, string id, string phase, TimeSpan? timeout = null, Func<string>? context = null)
    {
        var deadline = DateTime.UtcNow + (timeout ?? TimeSpan.FromSeconds(15));
        while (true)
        {
            var workspace = await user.GetFromJsonAsync<JsonElement>($"/api/workspaces/{id}");
            var now = workspace.GetProperty("phase").GetString();
            if (now == phase)
            {
                return workspace;
            }

            // A failed workspace nobody asked to do anything else will not move.
            var stuck = now == "Failed" && workspace.GetProperty("desired").GetString() == "Running";
            Assert.True(!stuck && DateTime.UtcNow < deadline, $"{id} is {now}, not {phase}: {workspace}\n{context?.Invoke()}");
            await Task.Delay(100);
        }
    }

    /// <summary>Waits until the workspace is Running with no lifecycle command after <c>waitFor</c> still at work.</summary>
    public static async Task<JsonElement> HooksDoneAsync(HttpClient user, string id, TimeSpan? timeout = null, Func<string>? context = null)
    {
        var deadline = DateTime.UtcNow + (timeout ?? TimeSpan.FromSeconds(60));
        while (true)
        {
            var workspace = await WaitAsync(user, id, "Running", deadline - DateTime.UtcNow, context);
            if (!workspace.GetProperty("hooksRunning").GetBoolean())
            {
                return workspace;
            }

            Assert.True(DateTime.UtcNow < deadline, $"{id} still runs its hooks after waitFor: {workspace}\n{context?.Invoke()}");
            await Task.Delay(100);
        }
    }
}
