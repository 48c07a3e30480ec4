using CloudDevEnv.ObjectStorage.Tests;
using CloudDevEnv.Workspaces.Docker.Tests;

namespace CloudDevEnv.Api.Tests;

/// <summary>The lifecycle as a user lives it, on the real host process, the real Docker engine and a real S3-protocol
/// server (s3rver) holding the snapshots, with short timeouts set through configuration: an untouched workspace is warned
/// and then stopped while one kept busy through the proxy is not; the stopped one's home-folder file and uncommitted
/// file come back from the S3 store after its container and volumes are gone.</summary>
public sealed class LifecycleEndToEndTests : IAsyncLifetime
{
    private const string Bucket = "cde-e2e-snapshots";
    private readonly string _dataDir = Directory.CreateTempSubdirectory("cde-life-").FullName;
    private readonly string _repoRoot = Directory.CreateTempSubdirectory("cde-life-repos-").FullName;
    private readonly string _s3Dir = Directory.CreateTempSubdirectory("cde-life-s3-").FullName;
    private S3rverProcess _s3 = null!;

    public async Task InitializeAsync() => _s3 = await S3rverProcess.StartAsync(_s3Dir, FreePorts.Take(1)[0], Bucket);

    public async Task DisposeAsync()
    {
        await _s3.DisposeAsync();
        Directory.Delete(_dataDir, recursive: true);
        Directory.Delete(_repoRoot, recursive: true);
        Directory.Delete(_s3Dir, recursive: true);
    }

    [Fact]
    public async Task Untouched_is_warned_then_stopped_busy_is_not_and_home_and_uncommitted_files_come_back_from_s3()
    {
        var repository = TestRepository.Create(_repoRoot, "life").Write("README.md", "# life\n");
        repository.Commit("first");
        var ports = FreePorts.Take(4);
        await using var silo = await SiloProcess.StartAsync(_dataDir, ports, new Dictionary<string, string>
        {
            ["CDE_LOCAL_REPO_ROOTS"] = _repoRoot,
            ["Workspaces__HealthCheckInterval"] = "00:00:02",
            ["Proxy__ActivityReportInterval"] = "00:00:05",
            ["Snapshots__Store"] = "S3",
            ["Snapshots__S3__ServiceUrl"] = _s3.ServiceUrl,
            ["Snapshots__S3__Bucket"] = Bucket,
            ["Snapshots__S3__AccessKey"] = S3rverProcess.AccessKey,
            ["Snapshots__S3__SecretKey"] = S3rverProcess.SecretKey,
        });
        using var api = await Users.SignInAsync(silo.Api, "ada");

        async Task<string> LaunchAsync()
        {
            var created = await api.PostAsJsonAsync("/api/workspaces", new { repoUrl = repository.Url, idleTimeoutMinutes = 1 });
            Assert.Equal(HttpStatusCode.Created, created.StatusCode);
            return (await created.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetString()!;
        }

        var untouched = await LaunchAsync();
        var busy = await LaunchAsync();
        try
        {
            await Phases.WaitAsync(api, untouched, "Running", TimeSpan.FromSeconds(120), () => silo.Output);
            await Phases.WaitAsync(api, busy, "Running", TimeSpan.FromSeconds(120), () => silo.Output);
            var container = "cde-" + untouched;
            await DockerCli.RunAsync("exec", "-u", "vscode", container, "sh", "-c",
                "echo 'make release' >> ~/.bash_history && echo draft > /workspaces/life/uncommitted.txt");

            // The busy one: its IDE page fetched through the proxy every few seconds, as an open browser tab would.
            using var handler = new SocketsHttpHandler { AllowAutoRedirect = false, UseCookies = false, ConnectCallback = LoopbackBrowser.ConnectToLoopback(ports[1]) };
            using var browser = new HttpClient(handler);
            var host = $"{busy}.localhost:{ports[1]}";
            var signIn = new Uri((await (await api.PostAsync($"/api/workspaces/{busy}/open", null)).Content.ReadFromJsonAsync<JsonElement>()).GetProperty("url").GetString()!);
            var cookie = (await browser.GetAsync($"http://{host}{signIn.PathAndQuery}")).Headers.GetValues("Set-Cookie").Single().Split(';')[0];
            using var stopUsing = new CancellationTokenSource();
            var use = Task.Run(async () =>
            {
                while (!stopUsing.IsCancellationRequested)
                {
                    var page = await LoopbackBrowser.FollowAsync(browser, $"http://{host}/", cookie);
                    Assert.Equal(HttpStatusCode.OK, page.StatusCode);
                    await Task.Delay(TimeSpan.FromSeconds(4), CancellationToken.None);
                }
            });

            // A 1-minute timeout is warned of at 30 s (the 5- and 1-minute leads are as long as the timeout), then stops.
            var stopped = await Phases.WaitAsync(api, untouched, "Stopped", TimeSpan.FromSeconds(150), () => silo.Output);
            var events = stopped.GetProperty("events").EnumerateArray().ToList();
            var warning = Assert.Single(events, e => e.GetProperty("kind").GetString() == "Warning");
            Assert.Matches(@"^No activity for \d+ s: the workspace stops in \d+ s unless it is used", warning.GetProperty("message").GetString());
            Assert.Contains(events, e => e.GetProperty("message").GetString() == "Stopping: no activity for 1 min.");
            var snapshot = Assert.Single(events, e => e.GetProperty("kind").GetString() == "Snapshot");
            Assert.StartsWith("Snapshot of /workspaces and /home taken (on stop)", snapshot.GetProperty("message").GetString());

            var stillBusy = await api.GetFromJsonAsync<JsonElement>($"/api/workspaces/{busy}");
            Assert.Equal("Running", stillBusy.GetProperty("phase").GetString());
            Assert.DoesNotContain(stillBusy.GetProperty("events").EnumerateArray(), e => e.GetProperty("kind").GetString() == "Warning");
            await stopUsing.CancelAsync();
            await use;

            // Its container and volumes gone from the engine: the files come back from the S3 store, not from a clone.
            Assert.Contains(_s3.Requests, r => r.Method == "PUT" && r.Target.Contains(untouched, StringComparison.Ordinal));
            await DockerCli.RunAsync("rm", "-f", "-v", container);
            foreach (var volume in (await DockerCli.RunAsync("volume", "ls", "-q", "--filter", $"label=dev.clouddevenv.workspace-id={untouched}")).Split('\n', StringSplitOptions.RemoveEmptyEntries))
            {
                await DockerCli.RunAsync("volume", "rm", "-f", volume);
            }

            Assert.Equal(HttpStatusCode.Accepted, (await api.PostAsync($"/api/workspaces/{untouched}/start", null)).StatusCode);
            var back = await Phases.WaitAsync(api, untouched, "Running", TimeSpan.FromSeconds(120), () => silo.Output);
            Assert.Contains(back.GetProperty("events").EnumerateArray(), e => e.GetProperty("message").GetString()!.StartsWith("Restored /workspaces and /home", StringComparison.Ordinal));
            Assert.Equal("draft", (await DockerCli.RunAsync("exec", "-u", "vscode", container, "cat", "/workspaces/life/uncommitted.txt")).Trim());
            Assert.Contains("make release", await DockerCli.RunAsync("exec", "-u", "vscode", container, "cat", "/home/vscode/.bash_history"));

            // The store down during a stop: the stop goes on, keeps the volumes, and says so.
            await _s3.StopAsync();
            Assert.Equal(HttpStatusCode.Accepted, (await api.PostAsync($"/api/workspaces/{busy}/stop", null)).StatusCode);
            var unsaved = await Phases.WaitAsync(api, busy, "Stopped", TimeSpan.FromSeconds(120), () => silo.Output);
            var failure = Assert.Single(unsaved.GetProperty("events").EnumerateArray(), e => e.GetProperty("kind").GetString() == "Error").GetProperty("message").GetString()!;
            Assert.StartsWith("Snapshot of /workspaces and /home (on stop) failed: ", failure);
            Assert.Contains(_s3.ServiceUrl, failure);
            Assert.EndsWith("The files stay in the workspace's volumes.", failure);
            Assert.Equal(2, (await DockerCli.RunAsync("volume", "ls", "-q", "--filter", $"label=dev.clouddevenv.workspace-id={busy}")).Split('\n', StringSplitOptions.RemoveEmptyEntries).Length);
        }
        finally
        {
            await api.DeleteAsync($"/api/workspaces/{untouched}");
            await api.DeleteAsync($"/api/workspaces/{busy}");
            await Phases.WaitAsync(api, untouched, "Deleted", TimeSpan.FromSeconds(60));
            await Phases.WaitAsync(api, busy, "Deleted", TimeSpan.FromSeconds(60));
        }
    }
}
