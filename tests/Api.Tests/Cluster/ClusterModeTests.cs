using System.Diagnostics;
using System.Net.WebSockets;
using CloudDevEnv.PostgreSql.Tests;
using CloudDevEnv.Workspaces.Docker.Tests;
using Npgsql;

namespace CloudDevEnv.Api.Tests.Cluster;

/// <summary>Cluster mode on real parts: three silo processes on a private PostgreSQL, the API and the proxy as processes
/// of their own, workspaces in the real Docker engine. A silo killed under a running workspace, every process stopped and
/// started again, the database restarted under a running system: nothing acknowledged is lost, no container restarts, an
/// IDE's WebSocket through the proxy stays open, and every refusal on the way is a retryable 503, never a 500.</summary>
public sealed class ClusterModeTests(ClusterModeTests.Fixture fixture) : IClassFixture<ClusterModeTests.Fixture>
{
    public sealed class Fixture : IAsyncLifetime
    {
        public PostgresServer Database { get; } = new();

        public ClusterProcesses Cluster { get; private set; } = null!;

        public List<string> Workspaces { get; } = [];

        public async Task InitializeAsync()
        {
            await Database.InitializeAsync();
            Cluster = await ClusterProcesses.StartAsync(Database, silos: 3);
        }

        public async Task DisposeAsync()
        {
            await Cluster.DisposeAsync();
            await EngineLeftovers.RemoveAsync(Workspaces);
            await Database.DisposeAsync();
        }
    }

    private ClusterProcesses Cluster => fixture.Cluster;

    private async Task<(HttpClient Admin, string Id)> RunningWorkspaceAsync(string name)
    {
        var repository = TestRepository.Create(Cluster.RepoRoot, name).Write("README.md", $"# {name}\n");
        repository.Commit("first");
        var admin = await Users.SignInAsync(Cluster.Api, ClusterProcesses.Admin);
        var created = await admin.PostAsJsonAsync("/api/workspaces", new { repoUrl = repository.Url });
        Assert.True(created.StatusCode == HttpStatusCode.Created, await created.Content.ReadAsStringAsync());
        var id = (await created.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetString()!;
        fixture.Workspaces.Add(id);

        // Acknowledged means stored: the workspace's record is in the database before the 201.
        await using (var connection = new NpgsqlConnection(Cluster.ConnectionString))
        {
            await connection.OpenAsync();
            await using var stored = new NpgsqlCommand($"SELECT count(*) FROM OrleansStorage WHERE grainidextensionstring = '{id}'", connection);
            Assert.Equal(1L, (long)(await stored.ExecuteScalarAsync())!);
        }

        await Phases.WaitAsync(admin, id, "Running", TimeSpan.FromSeconds(150), () => Cluster.Output);
        return (admin, id);
    }

    private static async Task<string> ContainerStartAsync(string id) =>
        (await DockerCli.RunAsync("inspect", "-f", "{{.State.StartedAt}} restarts={{.RestartCount}}", "cde-" + id)).Trim();

    /// <summary>GETs until <paramref name="done"/> holds; every refusal on the way must be a 503 problem.</summary>
    private async Task<JsonElement> UntilAsync(HttpClient user, string id, Func<JsonElement, bool> done, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (DateTime.UtcNow < deadline)
        {
            using var response = await user.GetAsync($"/api/workspaces/{id}");
            if (response.IsSuccessStatusCode)
            {
                var workspace = await response.Content.ReadFromJsonAsync<JsonElement>();
                if (done(workspace))
                {
                    return workspace;
                }
            }
            else
            {
                await Problems.AssertAsync(response, HttpStatusCode.ServiceUnavailable);
                Assert.NotNull(response.Headers.RetryAfter);
            }

            await Task.Delay(200);
        }

        Assert.Fail($"{id} did not get there in {timeout}:\n{Cluster.Output}");
        return default;
    }

    [Fact]
    public async Task A_silo_killed_under_a_running_workspace_loses_neither_the_workspace_nor_its_container_nor_an_open_ide_socket()
    {
        var (admin, id) = await RunningWorkspaceAsync("failover");
        using var _ = admin;
        var before = await admin.GetFromJsonAsync<JsonElement>($"/api/workspaces/{id}");
        var address = before.GetProperty("silo").GetString()!;
        var holder = Cluster.SiloAt(address);
        var started = await ContainerStartAsync(id);

        // An IDE tab's socket, and a dev server's WebSocket (an echo, on a port made public) to see bytes cross.
        var cookie = await LoopbackBrowser.SignInAsync(admin, id, Cluster.ProxyPort);
        using var ide = await LoopbackBrowser.OpenIdeSocketAsync(id, Cluster.ProxyPort, cookie);
        Assert.Equal(WebSocketState.Open, ide.State);
        await DockerCli.RunAsync("exec", "-d", "-u", "vscode", "cde-" + id, "/opt/clouddevenv/ide/node/bin/node", "-e", EchoServer);
        Assert.Equal(HttpStatusCode.OK, (await admin.PutAsJsonAsync($"/api/workspaces/{id}/ports/{EchoPort}", new { visibility = "public" })).StatusCode);
        using var echo = await OpenEchoAsync(id);
        Assert.Equal("before", await EchoAsync(echo, "before"));

        var clock = Stopwatch.StartNew();
        await holder.Process.KillAsync();
        var moved = await UntilAsync(admin, id, w => w.GetProperty("silo").GetString() != address, TimeSpan.FromSeconds(60));
        var failover = clock.Elapsed;

        Assert.Equal("Running", moved.GetProperty("phase").GetString());
        Assert.NotEqual(holder.SiloPort, Cluster.SiloAt(moved.GetProperty("silo").GetString()!).SiloPort);
        Assert.Equal(started, await ContainerStartAsync(id));
        // How fast is measured in bench/cluster, not asserted here: on this 2-core machine the time is bimodal (about
        // 3-8 s, or about 31 s when a status call waits out Orleans' 30 s response timeout), see the closing note of
        // 2026-12-03. What the user must not lose is asserted: within the minute UntilAsync allows, the same container.

        // Neither socket noticed: the echo still answers through the same connection, the IDE's is still open and
        // nothing ends it while it is listened to.
        Assert.Equal("after", await EchoAsync(echo, "after"));
        Assert.Equal(WebSocketState.Open, ide.State);
        var listening = ide.ReceiveAsync(new byte[4096], CancellationToken.None);
        if (await Task.WhenAny(listening, Task.Delay(TimeSpan.FromSeconds(3))) == listening)
        {
            Assert.NotEqual(WebSocketMessageType.Close, (await listening).MessageType);
        }

        ide.Abort();

        // Its durable reminder is still there, and its timer runs on the new silo: a container killed behind the
        // platform's back is seen (Interrupted) and started again there.
        await using (var connection = new NpgsqlConnection(Cluster.ConnectionString))
        {
            await connection.OpenAsync();
            await using var reminders = new NpgsqlCommand($"SELECT count(*) FROM OrleansRemindersTable WHERE grainid LIKE '%{id}%'", connection);
            Assert.Equal(1L, (long)(await reminders.ExecuteScalarAsync())!);
        }

        await DockerCli.RunAsync("kill", "cde-" + id);
        await UntilAsync(admin, id, w => w.GetProperty("events").EnumerateArray().Any(e => e.GetProperty("phase").GetString() == "Interrupted"), TimeSpan.FromSeconds(60));
        await Phases.WaitAsync(admin, id, "Running", TimeSpan.FromSeconds(120), () => Cluster.Output);

        await Cluster.StartSiloAsync(holder.Index);
        Console.WriteLine($"Failover of {id}: {failover.TotalMilliseconds:0} ms from kill -9 to the grain answering from another silo.");
    }

    [Fact]
    public async Task Every_process_stopped_and_started_again_finds_every_workspace_token_and_session_as_they_were()
    {
        var (admin, id) = await RunningWorkspaceAsync("restart");
        using var _ = admin;
        var (_, token) = await Users.CreateTokenAsync(admin, "restart");
        var before = await admin.GetFromJsonAsync<JsonElement>($"/api/workspaces/{id}");
        var started = await ContainerStartAsync(id);

        await Cluster.StopAllAsync();
        await Task.WhenAll(Cluster.Silos.Keys.Select(Cluster.StartSiloAsync));
        await Cluster.StartClientsAsync();

        // The browser's session (its keys are in the database), the token, the workspace with its events.
        var after = await UntilAsync(admin, id, w => w.GetProperty("phase").GetString() == "Running", TimeSpan.FromSeconds(60));
        // Its recorded events (log lines are kept in memory only, and go with the processes).
        static IEnumerable<long> Recorded(JsonElement w) =>
            w.GetProperty("events").EnumerateArray().Where(e => e.GetProperty("kind").GetString() != "Log").Select(e => e.GetProperty("sequence").GetInt64());
        Assert.Subset(Recorded(after).ToHashSet(), Recorded(before).ToHashSet());
        Assert.NotEmpty(Recorded(before));
        Assert.Equal(started, await ContainerStartAsync(id));
        using var script = Users.WithToken(Cluster.Api, token);
        Assert.Equal(HttpStatusCode.OK, (await script.GetAsync($"/api/workspaces/{id}")).StatusCode);
    }

    [Fact]
    public async Task The_database_restarted_under_a_running_system_fails_writes_fast_with_503_and_then_works_again()
    {
        var (admin, id) = await RunningWorkspaceAsync("dbrestart");
        using var _ = admin;

        await fixture.Database.StopAsync();
        try
        {
            // Reads of live workspaces go on from memory; a change that must be stored is refused, fast, and retryable.
            Assert.Equal(HttpStatusCode.OK, (await admin.GetAsync($"/api/workspaces/{id}")).StatusCode);
            var clock = Stopwatch.StartNew();
            using var refused = await admin.PostAsJsonAsync("/api/workspaces", new { repoUrl = "https://github.com/octo/while-down" });
            await Problems.AssertAsync(refused, HttpStatusCode.ServiceUnavailable);
            Assert.NotNull(refused.Headers.RetryAfter);
            Assert.True(clock.Elapsed < TimeSpan.FromSeconds(40), $"the refusal took {clock.Elapsed.TotalSeconds:0.0} s");
            Console.WriteLine($"With the database down, a create was refused (503) after {clock.ElapsedMilliseconds} ms.");
        }
        finally
        {
            await fixture.Database.StartAsync();
        }

        // Back: the next create is stored.
        var deadline = DateTime.UtcNow.AddSeconds(60);
        HttpResponseMessage created;
        do
        {
            created = await admin.PostAsJsonAsync("/api/workspaces", new { repoUrl = "https://github.com/octo/after-restart" });
            if (created.StatusCode != HttpStatusCode.Created)
            {
                await Problems.AssertAsync(created, HttpStatusCode.ServiceUnavailable);
                await Task.Delay(500);
            }
        }
        while (created.StatusCode != HttpStatusCode.Created && DateTime.UtcNow < deadline);

        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        var later = (await created.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetString()!;
        fixture.Workspaces.Add(later);
        Assert.Equal(HttpStatusCode.Accepted, (await admin.DeleteAsync($"/api/workspaces/{later}")).StatusCode);
        Assert.Equal("Running", (await admin.GetFromJsonAsync<JsonElement>($"/api/workspaces/{id}")).GetProperty("phase").GetString());
    }

    private const int EchoPort = 7681;

    /// <summary>A WebSocket echo server in the IDE bundle's node (which has no WebSocket server of its own): the
    /// handshake and unfragmented frames, enough for a test to see its words come back.</summary>
    private static readonly string EchoServer = """
        const http = require('http'), crypto = require('crypto');
        http.createServer((q, r) => r.end('echo')).on('upgrade', (req, sock) => {
          const accept = crypto.createHash('sha1').update(req.headers['sec-websocket-key'] + '258EAFA5-E914-47DA-95CA-C5AB0DC85B11').digest('base64');
          sock.write('HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ' + accept + '\r\n\r\n');
          let buf = Buffer.alloc(0);
          sock.on('data', d => {
            buf = Buffer.concat([buf, d]);
            while (buf.length >= 2) {
              const op = buf[0] & 15; let len = buf[1] & 127, off = 2;
              if (len === 126) { if (buf.length < 4) return; len = buf.readUInt16BE(2); off = 4; }
              if (buf.length < off + 4 + len) return;
              const mask = buf.subarray(off, off + 4), payload = Buffer.alloc(len);
              for (let i = 0; i < len; i++) payload[i] = buf[off + 4 + i] ^ mask[i % 4];
              buf = buf.subarray(off + 4 + len);
              if (op === 8) { sock.end(Buffer.from([0x88, 0])); return; }
              const head = len < 126 ? Buffer.from([0x80 | op, len]) : Buffer.from([0x80 | op, 126, len >> 8, len & 255]);
              sock.write(Buffer.concat([head, payload]));
            }
          });
        }).listen(7681, '127.0.0.1');
        """;

    private async Task<ClientWebSocket> OpenEchoAsync(string id)
    {
        var host = $"{EchoPort}-{id}.localhost:{Cluster.ProxyPort}";
        using var invoker = new HttpMessageInvoker(new SocketsHttpHandler { ConnectCallback = LoopbackBrowser.ConnectToLoopback(Cluster.ProxyPort) });
        for (var attempt = 0; ; attempt++)
        {
            var socket = new ClientWebSocket();
            socket.Options.SetRequestHeader("Origin", $"http://{host}");
            try
            {
                await socket.ConnectAsync(new Uri($"ws://{host}/"), invoker, CancellationToken.None);
                return socket;
            }
            catch (WebSocketException) when (attempt < 50)
            {
                // The echo server is still starting.
                socket.Dispose();
                await Task.Delay(200);
            }
        }
    }

    private static async Task<string> EchoAsync(ClientWebSocket socket, string text)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        await socket.SendAsync(System.Text.Encoding.UTF8.GetBytes(text), WebSocketMessageType.Text, endOfMessage: true, timeout.Token);
        var buffer = new byte[1024];
        var received = await socket.ReceiveAsync(buffer, timeout.Token);
        return System.Text.Encoding.UTF8.GetString(buffer, 0, received.Count);
    }
}
