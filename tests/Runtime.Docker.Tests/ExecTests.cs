using System.Net;
using System.Diagnostics;

namespace CloudDevEnv.Runtime.Docker.Tests;

[Collection(DockerCollection.Name)]
public sealed class ExecTests(DockerFixture fx, ITestOutputHelper output)
{
    [Fact]
    public async Task Exec_streams_output_lines_and_returns_exit_codes()
    {
        var id = fx.NewWorkspaceId("exec");
        try
        {
            await fx.Runtime.CreateAsync(fx.Spec(id), default);
            await fx.Runtime.StartAsync(id, default);

            var lines = new LineCollector(output);
            var result = await fx.Runtime.ExecAsync(id, new ExecRequest(
                ["sh", "-c", "echo one; echo two >&2; printf 'ü-three'; exit 3"]), lines, default);
            Assert.Equal(3, result.ExitCode);
            Assert.Contains("one", lines.Lines);
            Assert.Contains("two", lines.Lines);
            Assert.Contains("ü-three", lines.Lines);
            Assert.Contains("ü-three", result.OutputTail);

            // Lines arrive while the command runs, not only at its end.
            var streamed = new List<(string Line, TimeSpan At)>();
            var watch = Stopwatch.StartNew();
            var slow = await fx.Runtime.ExecAsync(id, new ExecRequest(["sh", "-c", "echo first; sleep 1; echo second"]),
                new InlineCollector(l => streamed.Add((l, watch.Elapsed))), default);
            Assert.Equal(0, slow.ExitCode);
            Assert.Equal(["first", "second"], streamed.Select(s => s.Line));
            Assert.True(streamed[1].At - streamed[0].At > TimeSpan.FromMilliseconds(700), "the first line must be reported before the command ends");

            // The tail keeps the last 40 lines.
            var many = await fx.Runtime.ExecAsync(id, new ExecRequest(["sh", "-c", "seq 1 100"]), new LineCollector(), default);
            Assert.Equal(0, many.ExitCode);
            var tail = many.OutputTail.Split('\n');
            Assert.Equal(40, tail.Length);
            Assert.Equal("61", tail[0]);
            Assert.Equal("100", tail[^1]);

            // Environment, working directory and user.
            var env = await fx.Runtime.ExecAsync(id, new ExecRequest(["sh", "-c", "echo \"$FOO|$(pwd)|$(id -un)\""],
                new Dictionary<string, string> { ["FOO"] = "bar baz" }, "/tmp", "root"), new LineCollector(), default);
            Assert.Equal("bar baz|/tmp|root", env.OutputTail);
            var user = await fx.Runtime.ExecAsync(id, new ExecRequest(["sh", "-c", "id -un; echo $HOME"], User: WorkspaceImages.WorkspaceUser), new LineCollector(), default);
            Assert.Equal($"{WorkspaceImages.WorkspaceUser}\n/home/{WorkspaceImages.WorkspaceUser}", user.OutputTail);

            // A command that does not exist: a non-zero exit code and the engine's reason.
            var missing = await fx.Runtime.ExecAsync(id, new ExecRequest(["no-such-command"]), new LineCollector(), default);
            Assert.NotEqual(0, missing.ExitCode);
            Assert.Contains("no-such-command", missing.OutputTail);

            // The container removed and made anew behind the runtime's back (it ran the execs above in the old one, by
            // id): the next exec runs in the new one.
            await fx.Engine.Containers.RemoveContainerAsync("cde-" + id, new global::Docker.DotNet.Models.ContainerRemoveParameters { Force = true });
            await fx.Runtime.CreateAsync(fx.Spec(id), default);
            await fx.Runtime.StartAsync(id, default);
            var renewed = await fx.Runtime.ExecAsync(id, new ExecRequest(["sh", "-c", "echo again"]), new LineCollector(), default);
            Assert.Equal((0, "again"), (renewed.ExitCode, renewed.OutputTail));

            // Exec in a stopped workspace: a transient error (start it, then retry), in words.
            await fx.Runtime.StopAsync(id, TimeSpan.FromSeconds(2), default);
            var stopped = await Assert.ThrowsAsync<WorkspaceRuntimeException>(() =>
                fx.Runtime.ExecAsync(id, new ExecRequest(["true"]), new LineCollector(), default));
            Assert.False(stopped.IsPermanent);
            Assert.Equal($"Cannot run a command in workspace {id}: its container is exited.", stopped.Message);
        }
        finally
        {
            await fx.Runtime.DeleteAsync(id, default);
        }
    }

    [Fact]
    public async Task Detached_code_server_from_the_bundle_answers_http_through_the_published_port()
    {
        var id = fx.NewWorkspaceId("ide");
        try
        {
            var watch = Stopwatch.StartNew();
            await fx.Runtime.CreateAsync(fx.Spec(id, gateway: DockerFixture.Gateway), default);
            await fx.Runtime.StartAsync(id, default);
            output.WriteLine($"create + start: {watch.ElapsedMilliseconds} ms");

            // The gateway answers, but nothing listens on the IDE's port yet: the probe must say no.
            Assert.False(await fx.Runtime.ProbeIdeAsync(id, default));

            watch.Restart();
            var lines = new LineCollector(output);
            var started = await fx.Runtime.ExecAsync(id, new ExecRequest(
                [WorkspaceImages.CodeServerPath, "--auth", "none", "--bind-addr", "127.0.0.1:13337", "--disable-telemetry", "--disable-update-check", "/workspaces"],
                User: WorkspaceImages.WorkspaceUser, Detached: true), lines, default);
            output.WriteLine($"detached exec returned after {watch.ElapsedMilliseconds} ms");
            Assert.Equal(0, started.ExitCode);
            Assert.True(watch.Elapsed < TimeSpan.FromSeconds(5), "a detached exec must not wait for the server");

            var answered = await Eventually.WaitAsync(() => fx.Runtime.ProbeIdeAsync(id, default), TimeSpan.FromSeconds(90), "code-server answering");
            output.WriteLine($"code-server answered after {answered.TotalMilliseconds:0} ms");

            var instance = await fx.Runtime.InspectAsync(id, default);
            var endpoint = instance!.Gateway!;
            Assert.Equal("127.0.0.1", endpoint.Host);
            using var http = new HttpClient(new SocketsHttpHandler { UseProxy = false });

            // Only through the gateway, and only with the secret: a local process that finds the published port gets nothing.
            Assert.Equal(HttpStatusCode.Unauthorized, (await http.GetAsync(endpoint)).StatusCode);
            using var request = new HttpRequestMessage(HttpMethod.Get, endpoint);
            request.Headers.Add(GatewayProtocol.SecretHeader, DockerFixture.Gateway.Secret);
            request.Headers.Add(GatewayProtocol.TargetHeader, GatewayProtocol.IdeTarget);
            var page = await (await http.SendAsync(request)).Content.ReadAsStringAsync();
            Assert.Contains("vscode", page, StringComparison.OrdinalIgnoreCase);

            // The server runs as the workspace user, under the container's init.
            var ps = await fx.Runtime.ExecAsync(id, new ExecRequest(["ps", "-eo", "user=,ppid=,args="]), new LineCollector(), default);
            output.WriteLine(ps.OutputTail);
            var server = ps.OutputTail.Split('\n').First(l => l.Contains("out/node/entry.js", StringComparison.Ordinal));
            var fields = server.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            Assert.Equal(WorkspaceImages.WorkspaceUser, fields[0]);
            Assert.Equal("1", fields[1]);

            // A detached command that does not exist fails at once.
            var missing = await fx.Runtime.ExecAsync(id, new ExecRequest(["no-such-server"], Detached: true), new LineCollector(), default);
            Assert.Equal(127, missing.ExitCode);
            Assert.Contains("no-such-server", missing.OutputTail);
        }
        finally
        {
            await fx.Runtime.DeleteAsync(id, default);
        }
    }

    private sealed class InlineCollector(Action<string> onLine) : IProgress<string>
    {
        public void Report(string value) => onLine(value);
    }
}
