using System.Net.WebSockets;
using CloudDevEnv.Workspaces.Docker.Tests;

namespace CloudDevEnv.Api.Tests;

/// <summary>The whole path a user takes, on the real host process with the real Docker engine: launch a
/// repository, open the sign-in link, load code-server's page through <c>&lt;id&gt;.localhost</c> and connect
/// its WebSocket through the proxy (which code-server accepts only when Host and Origin agree).</summary>
public sealed class EndToEndTests : IAsyncLifetime
{
    private readonly string _dataDir = Directory.CreateTempSubdirectory("cde-e2e-").FullName;
    private readonly string _repoRoot = Directory.CreateTempSubdirectory("cde-e2e-repos-").FullName;

    public Task InitializeAsync() => Task.CompletedTask;

    public Task DisposeAsync()
    {
        Directory.Delete(_dataDir, recursive: true);
        Directory.Delete(_repoRoot, recursive: true);
        return Task.CompletedTask;
    }

    [Fact]
    public async Task Code_server_loads_and_its_websocket_connects_through_the_proxy()
    {
        var repository = TestRepository.Create(_repoRoot, "hello").Write("README.md", "# hello\n");
        repository.Commit("first");
        var ports = FreePorts.Take(4);
        await using var silo = await SiloProcess.StartAsync(_dataDir, ports, new Dictionary<string, string> { ["CDE_LOCAL_REPO_ROOTS"] = _repoRoot });
        using var api = await Users.SignInAsync(silo.Api, "ada");

        var created = await api.PostAsJsonAsync("/api/workspaces", new { repoUrl = repository.Url });
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        var id = (await created.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetString()!;
        try
        {
            await Phases.WaitAsync(api, id, "Running", TimeSpan.FromSeconds(120), () => silo.Output);
            var signIn = new Uri((await (await api.PostAsync($"/api/workspaces/{id}/open", null)).Content.ReadFromJsonAsync<JsonElement>()).GetProperty("url").GetString()!);
            var host = $"{id}.localhost:{ports[1]}";

            using var handler = new SocketsHttpHandler { AllowAutoRedirect = false, UseCookies = false, ConnectCallback = LoopbackBrowser.ConnectToLoopback(ports[1]) };
            using var browser = new HttpClient(handler);

            var noCookie = await browser.GetAsync($"http://{host}/");
            Assert.Equal(HttpStatusCode.Unauthorized, noCookie.StatusCode);

            var redeemed = await browser.GetAsync($"http://{host}{signIn.PathAndQuery}");
            Assert.Equal(HttpStatusCode.SeeOther, redeemed.StatusCode);
            var cookie = redeemed.Headers.GetValues("Set-Cookie").Single().Split(';')[0];

            var page = await LoopbackBrowser.FollowAsync(browser, $"http://{host}/", cookie);
            Assert.Equal(HttpStatusCode.OK, page.StatusCode);
            Assert.Contains("workbench", await page.Content.ReadAsStringAsync());

            using var socket = new ClientWebSocket();
            socket.Options.SetRequestHeader("Cookie", cookie);
            socket.Options.SetRequestHeader("Origin", $"http://{host}");
            using var invoker = new HttpMessageInvoker(new SocketsHttpHandler { ConnectCallback = LoopbackBrowser.ConnectToLoopback(ports[1]) });
            var reconnection = Guid.NewGuid();
            await socket.ConnectAsync(
                new Uri($"ws://{host}/?reconnectionToken={reconnection}&reconnection=false&skipWebSocketFrames=false"), invoker, CancellationToken.None);
            Assert.Equal(WebSocketState.Open, socket.State);
            await socket.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, "done", CancellationToken.None);

            using var foreign = new ClientWebSocket();
            foreign.Options.SetRequestHeader("Cookie", cookie);
            foreign.Options.SetRequestHeader("Origin", "http://evil.example");
            await Assert.ThrowsAsync<WebSocketException>(() => foreign.ConnectAsync(new Uri($"ws://{host}/"), invoker, CancellationToken.None));

            // A dev server the user starts on a port nobody declared is reachable on that port's own host, through the
            // platform's sign-in, as in Codespaces; on the IDE's origin code-server's port proxy stays off.
            await DockerCli.RunAsync("exec", "-d", "-u", "vscode", "cde-" + id, "/opt/clouddevenv/ide/node/bin/node", "-e",
                "require('http').createServer((q, r) => r.end('dev server on 5173')).listen(5173, '127.0.0.1')");
            using var visitor = new BrowserClient();
            await visitor.PostFormAsync(new Uri(silo.Api, "/signin/dev"), new() { ["user"] = "ada" });
            BrowserClient.Visit devServer = null!;
            for (var attempt = 0; attempt < 50; attempt++)
            {
                devServer = await visitor.NavigateAsync(new Uri($"http://5173-{id}.localhost:{ports[1]}/"));
                if (devServer.Response.StatusCode == HttpStatusCode.OK)
                {
                    break;
                }

                await Task.Delay(200);
            }

            Assert.Equal($"5173-{id}.localhost", devServer.Url.Host);
            Assert.Equal("dev server on 5173", await devServer.Response.Content.ReadAsStringAsync());
            var pathProxy = await LoopbackBrowser.FollowAsync(browser, $"http://{host}/proxy/5173/", cookie);
            Assert.DoesNotContain("dev server on 5173", await pathProxy.Content.ReadAsStringAsync());

            // The port list finds it (read from the container's sockets), with its URL, and not the platform's own ports.
            var listed = (await api.GetFromJsonAsync<JsonElement>($"/api/workspaces/{id}/ports")).EnumerateArray().ToList();
            var port = Assert.Single(listed, p => p.GetProperty("port").GetInt32() == 5173);
            Assert.True(port.GetProperty("listening").GetBoolean());
            Assert.Equal("private", port.GetProperty("visibility").GetString());
            Assert.Equal($"http://5173-{id}.localhost:{ports[1]}/", port.GetProperty("url").GetString());
            Assert.DoesNotContain(listed, p => p.GetProperty("port").GetInt32() is 13337 or 61100);
            Assert.Equal(HttpStatusCode.OK, (await api.PutAsJsonAsync($"/api/workspaces/{id}/ports/5173", new { visibility = "public" })).StatusCode);
            var made = (await api.GetFromJsonAsync<JsonElement>($"/api/workspaces/{id}/ports")).EnumerateArray().Single(p => p.GetProperty("port").GetInt32() == 5173);
            Assert.Equal("public", made.GetProperty("visibility").GetString());
            using (var stranger = await Users.SignInAsync(silo.Api, "mallory"))
            {
                await Problems.AssertAsync(await stranger.GetAsync($"/api/workspaces/{id}/ports"), HttpStatusCode.NotFound);
            }
        }
        finally
        {
            await api.DeleteAsync($"/api/workspaces/{id}");
            var deadline = DateTime.UtcNow.AddSeconds(60);
            while (DateTime.UtcNow < deadline
                && (await api.GetFromJsonAsync<JsonElement>($"/api/workspaces/{id}")).GetProperty("phase").GetString() != "Deleted")
            {
                await Task.Delay(200);
            }
        }
    }
}
