namespace CloudDevEnv.Api.Tests;

/// <summary>The real host process with the real Docker runtime, killed with SIGKILL and started again:
/// what the API acknowledged is still there, with its phase and its history.</summary>
public sealed class RestartTests : IAsyncLifetime
{
    private readonly string _dataDir = Directory.CreateTempSubdirectory("cde-restart-").FullName;

    public Task InitializeAsync() => Task.CompletedTask;

    public Task DisposeAsync()
    {
        Directory.Delete(_dataDir, recursive: true);
        return Task.CompletedTask;
    }

    [Fact]
    public async Task Workspaces_and_their_phases_survive_a_kill_9()
    {
        var ports = FreePorts.Take(4);
        var owner = "restart" + Guid.NewGuid().ToString("N")[..8];
        string failedId, stoppedId, lastId;
        JsonElement failedBefore, stoppedBefore;

        HttpClient client;
        await using (var first = await SiloProcess.StartAsync(_dataDir, ports))
        {
            client = await Users.SignInAsync(first.Api, owner);

            // No network inside workspaces here: the clone fails, and the workspace says why.
            failedId = await CreateAsync(client);
            failedBefore = await Phases.WaitAsync(client, failedId, "Failed", TimeSpan.FromSeconds(90), () => first.Output);

            stoppedId = await CreateAsync(client);
            await client.PostAsync($"/api/workspaces/{stoppedId}/stop", null);
            stoppedBefore = await Phases.WaitAsync(client, stoppedId, "Stopped", TimeSpan.FromSeconds(90), () => first.Output);

            // Acknowledged, then killed at once: it must be there after the restart.
            lastId = await CreateAsync(client);
            await first.KillAsync();
        }

        // The same browser session goes on: the keys that protect its cookie are kept in the data folder.
        using var session = client;
        await using var second = await SiloProcess.StartAsync(_dataDir, ports);

        var failedAfter = await client.GetFromJsonAsync<JsonElement>($"/api/workspaces/{failedId}");
        Assert.Equal("Failed", failedAfter.GetProperty("phase").GetString());
        Assert.Equal(failedBefore.GetProperty("reason").GetString(), failedAfter.GetProperty("reason").GetString());
        Assert.Equal(Sequences(failedBefore), Sequences(failedAfter).Take(Sequences(failedBefore).Length));

        var stoppedAfter = await client.GetFromJsonAsync<JsonElement>($"/api/workspaces/{stoppedId}");
        Assert.Equal("Stopped", stoppedAfter.GetProperty("phase").GetString());
        Assert.Equal("Stopped", stoppedAfter.GetProperty("desired").GetString());
        Assert.Equal(Sequences(stoppedBefore), Sequences(stoppedAfter));

        var last = await client.GetFromJsonAsync<JsonElement>($"/api/workspaces/{lastId}");
        Assert.Equal(owner, last.GetProperty("owner").GetString());

        var listed = await client.GetFromJsonAsync<JsonElement>("/api/workspaces");
        Assert.Equal(new[] { failedId, stoppedId, lastId }.Order(), listed.EnumerateArray().Select(w => w.GetProperty("id").GetString()!).Order());

        foreach (var id in new[] { failedId, stoppedId, lastId })
        {
            await client.DeleteAsync($"/api/workspaces/{id}");
            await Phases.WaitAsync(client, id, "Deleted", TimeSpan.FromSeconds(90), () => second.Output);
        }
    }

    [Fact]
    public async Task A_second_process_on_the_same_data_folder_is_refused_with_a_clear_message()
    {
        await using var first = await SiloProcess.StartAsync(_dataDir, FreePorts.Take(4));

        var (exitCode, output) = await SiloProcess.RunUntilExitAsync(_dataDir, FreePorts.Take(4));

        Assert.Equal(1, exitCode);
        Assert.Contains($"Another CloudDevEnv process is using the data folder {_dataDir}", output);
        Assert.DoesNotContain("   at ", output);
    }

    /// <summary>The workspace's record: its events but the build and clone output, which is not persisted.</summary>
    private static long[] Sequences(JsonElement workspace) =>
        [.. workspace.GetProperty("events").EnumerateArray()
            .Where(e => e.GetProperty("kind").GetString() != "Log")
            .Select(e => e.GetProperty("sequence").GetInt64())];

    private static async Task<string> CreateAsync(HttpClient http)
    {
        var response = await http.PostAsJsonAsync("/api/workspaces", new { repoUrl = "https://github.com/octo/hello" });
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        return (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetString()!;
    }
}
