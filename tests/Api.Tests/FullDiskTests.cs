using System.Diagnostics;

namespace CloudDevEnv.Api.Tests;

/// <summary>The real host on a data folder that fills up (a small tmpfs mounted for the test): commands answer 503 and
/// change nothing, reads go on, and everything works again once space is freed.</summary>
public sealed class FullDiskTests : IAsyncLifetime
{
    private readonly string _mount = Directory.CreateTempSubdirectory("cde-fulldisk-").FullName;

    public async Task InitializeAsync() => await RunAsync("mount", "-t", "tmpfs", "-o", "size=32m,mode=0700", "cde-fulldisk", _mount);

    public async Task DisposeAsync()
    {
        await RunAsync("umount", _mount);
        Directory.Delete(_mount);
    }

    [Fact]
    public async Task Commands_on_a_full_disk_answer_503_change_nothing_and_work_once_space_is_freed()
    {
        var dataDir = Path.Combine(_mount, "data");
        await using var silo = await SiloProcess.StartAsync(dataDir, FreePorts.Take(4));
        using var user = await Users.SignInAsync(silo.Api, "diskful");

        // A workspace that settles without Docker doing much: no network here, so its clone fails.
        var created = await user.PostAsJsonAsync("/api/workspaces", new { repoUrl = "https://github.com/octo/hello" });
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        var id = (await created.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetString()!;
        var before = await Phases.WaitAsync(user, id, "Failed", TimeSpan.FromSeconds(90), () => silo.Output);

        var filler = Path.Combine(_mount, "filler");
        Fill(filler);
        try
        {
            var launch = await user.PostAsJsonAsync("/api/workspaces", new { repoUrl = "https://github.com/octo/other" });
            await AssertStorageUnavailableAsync(launch);
            await AssertStorageUnavailableAsync(await user.DeleteAsync($"/api/workspaces/{id}"));
            await AssertStorageUnavailableAsync(await user.PostAsync($"/api/workspaces/{id}/start", null));

            // Nothing changed, and reading still works.
            var after = await user.GetFromJsonAsync<JsonElement>($"/api/workspaces/{id}");
            Assert.Equal(
                (before.GetProperty("phase").GetString(), before.GetProperty("desired").GetString(), before.GetProperty("reason").GetString()),
                (after.GetProperty("phase").GetString(), after.GetProperty("desired").GetString(), after.GetProperty("reason").GetString()));
            var listed = await user.GetFromJsonAsync<JsonElement>("/api/workspaces");
            Assert.Equal([id], listed.EnumerateArray().Select(w => w.GetProperty("id").GetString()));
        }
        finally
        {
            File.Delete(filler);
        }

        // Space again: the same commands go through.
        Assert.Equal(HttpStatusCode.Accepted, (await user.DeleteAsync($"/api/workspaces/{id}")).StatusCode);
        await Phases.WaitAsync(user, id, "Deleted", TimeSpan.FromSeconds(90), () => silo.Output);
        var again = await user.PostAsJsonAsync("/api/workspaces", new { repoUrl = "https://github.com/octo/other" });
        Assert.Equal(HttpStatusCode.Created, again.StatusCode);
        var second = (await again.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetString()!;
        Assert.Equal(HttpStatusCode.Accepted, (await user.DeleteAsync($"/api/workspaces/{second}")).StatusCode);
        await Phases.WaitAsync(user, second, "Deleted", TimeSpan.FromSeconds(90), () => silo.Output);
    }

    private static async Task AssertStorageUnavailableAsync(HttpResponseMessage response)
    {
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.ServiceUnavailable, $"{(int)response.StatusCode}: {body}");
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var problem = JsonDocument.Parse(body).RootElement;
        Assert.EndsWith("storage-unavailable", problem.GetProperty("type").GetString());
        Assert.DoesNotContain("   at ", body);
    }

    /// <summary>Writes until the file system says it is full: whole megabytes, then pages, so that not one page is left.
    /// Unbuffered, so that the refused write is the one that throws and closing the file does not write again.</summary>
    private static void Fill(string path)
    {
        using var stream = new FileStream(path, FileMode.CreateNew, FileAccess.Write, FileShare.None, bufferSize: 0);
        foreach (var size in new[] { 1024 * 1024, 4096 })
        {
            var block = new byte[size];
            try
            {
                while (true)
                {
                    stream.Write(block);
                }
            }
            catch (IOException)
            {
                // Less than a block is left; the smaller blocks take the rest.
            }
        }
    }

    private static async Task RunAsync(params string[] command)
    {
        var info = new ProcessStartInfo(command[0]);
        foreach (var argument in command.Skip(1))
        {
            info.ArgumentList.Add(argument);
        }

        await using var process = ChildProcess.Start(info);
        await process.WaitForExitAsync(CancellationToken.None);
        Assert.True(process.ExitCode == 0, $"{string.Join(' ', command)} failed (this test needs root to mount a tmpfs): {process.Output}");
    }
}
