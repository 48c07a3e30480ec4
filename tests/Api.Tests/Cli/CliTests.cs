using System.Diagnostics;
using CloudDevEnv.Cli;
using CloudDevEnv.DevContainers.Tests.ReferenceCli;

namespace CloudDevEnv.Api.Tests.Cli;

/// <summary>cde against the real host (runtime double): each command's output for a person and with --json, its exit
/// status, where it keeps the login, and a launch on a terminal (a pseudo-terminal made by script(1)).</summary>
[Collection(HostCollection.Name)]
public sealed class CliTests(HostFixture host) : IDisposable
{
    private readonly string _home = Directory.CreateTempSubdirectory("cde-cli-home-").FullName;

    public void Dispose() => Directory.Delete(_home, recursive: true);

    private sealed record Run(int Exit, string Out, string Err);

    private static async Task<Run> CdeAsync(IReadOnlyDictionary<string, string> environment, params string[] args)
    {
        var stdout = new StringWriter();
        var stderr = new StringWriter();
        var exit = await Cde.RunAsync(args, stdout, stderr, name => environment.GetValueOrDefault(name), piped: true, CancellationToken.None);
        return new Run(exit, stdout.ToString(), stderr.ToString());
    }

    private async Task<Dictionary<string, string>> LoggedInAsync()
    {
        using var session = await host.SignInAsync(Users.NewName("cli"));
        var (_, token) = await Users.CreateTokenAsync(session);
        return new Dictionary<string, string> { ["HOME"] = _home, ["CDE_URL"] = host.Api.ToString(), ["CDE_TOKEN"] = token };
    }

    [Fact]
    public async Task Prebuild_says_why_it_cannot_build_in_one_line_and_the_exit_status()
    {
        var repo = $"https://github.com/octo/cli-pre-{Guid.NewGuid():N}";
        var user = await LoggedInAsync();
        var usage = await CdeAsync(user, "prebuild");
        Assert.Equal(ExitCodes.Usage, usage.Exit);

        var refused = await CdeAsync(user, "prebuild", repo);
        Assert.Equal((ExitCodes.Failure, string.Empty), (refused.Exit, refused.Out));
        Assert.Equal("cde: Registering prebuilds decides what everyone who launches the repository runs: it needs the admin role or a place in Api:PrebuildPublishers.", refused.Err.Trim());

        using var session = await host.SignInAsync(HostFixture.PrebuildPublisher);
        var (_, token) = await Users.CreateTokenAsync(session);
        var publisher = new Dictionary<string, string>(user) { ["CDE_TOKEN"] = token };
        var noRegistry = await CdeAsync(publisher, "prebuild", repo, "--ref", "main");
        Assert.Equal(ExitCodes.Failure, noRegistry.Exit);
        Assert.StartsWith("cde: This platform builds no prebuilds: no registry to push them to is configured (Prebuilds:Registry).", noRegistry.Err);
        var badRef = await CdeAsync(publisher, "prebuild", repo, "--ref", "-rf");
        Assert.StartsWith("cde: ref must be a branch or tag name", badRef.Err);
    }

    [Fact]
    public async Task Login_keeps_the_token_for_its_owner_only_and_the_environment_wins_over_it()
    {
        var user = Users.NewName("cli");
        using var session = await host.SignInAsync(user);
        var (_, token) = await Users.CreateTokenAsync(session);
        var home = new Dictionary<string, string> { ["HOME"] = _home };

        var notYet = await CdeAsync(home, "ls");
        Assert.Equal((ExitCodes.Auth, string.Empty), (notYet.Exit, notYet.Out));
        Assert.StartsWith("cde: Not logged in", notYet.Err);

        var login = await CdeAsync(home, "login", "--url", host.Api.ToString(), "--token", token);
        Assert.Equal(ExitCodes.Ok, login.Exit);
        Assert.Contains($"as {user}", login.Out);
        var config = Path.Combine(_home, ".config", "cde", "config.json");
        Assert.True(OperatingSystem.IsLinux() && File.GetUnixFileMode(config) == (UnixFileMode.UserRead | UnixFileMode.UserWrite), "the login file is 0600");
        Assert.Contains("No workspaces", (await CdeAsync(home, "ls")).Out);

        var refused = await CdeAsync(new Dictionary<string, string>(home) { ["CDE_TOKEN"] = "cde_not-a-token" }, "ls");
        Assert.Equal(ExitCodes.Auth, refused.Exit);
        Assert.Single(refused.Err.Trim().Split('\n'));

        var badLogin = await CdeAsync(home, "login", "--url", host.Api.ToString(), "--token", "cde_wrong");
        Assert.Equal(ExitCodes.Auth, badLogin.Exit);
        Assert.Contains("No workspaces", (await CdeAsync(home, "ls")).Out);
    }

    [Fact]
    public async Task Every_command_answers_a_person_and_a_script_with_the_documented_exit_status()
    {
        var env = await LoggedInAsync();

        var up = await CdeAsync(env, "up", "https://github.com/octo/cli-demo", "--ref", "main", "--machine", "small");
        Assert.True(up.Exit == ExitCodes.Ok, up.Err);
        var id = System.Text.RegularExpressions.Regex.Match(up.Out, @"Launching https://github.com/octo/cli-demo as (\S+)").Groups[1].Value;
        Assert.Contains("phase: Building", up.Out);
        Assert.Contains($"Running: http://{id}.localhost:", up.Out);

        var ls = await CdeAsync(env, "ls");
        Assert.Matches(@"^ID\s+PHASE\s+REPOSITORY\s+REF\s+URL", ls.Out);
        Assert.Contains(id, ls.Out);
        var lsJson = JsonDocument.Parse((await CdeAsync(env, "ls", "--json")).Out).RootElement;
        Assert.Equal([id], lsJson.EnumerateArray().Select(w => w.GetProperty("id").GetString()));

        Assert.Contains("phase:       Running (wants Running)", (await CdeAsync(env, "status", id)).Out);
        var status = JsonDocument.Parse((await CdeAsync(env, "status", id, "--json")).Out).RootElement;
        Assert.Equal(("main", 1d), (status.GetProperty("ref").GetString(), status.GetProperty("cpus").GetDouble()));
        Assert.StartsWith($"http://{id}.localhost:", (await CdeAsync(env, "open", id)).Out);
        Assert.Contains("Phase", (await CdeAsync(env, "logs", id)).Out);

        Assert.Equal($"Stopping {id}.\n", (await CdeAsync(env, "stop", id)).Out);
        using (var api = Users.WithToken(host.Api, env["CDE_TOKEN"]))
        {
            await Phases.WaitAsync(api, id, "Stopped");
        }

        var started = await CdeAsync(env, "start", id, "--json");
        Assert.Equal("Running", JsonDocument.Parse(started.Out).RootElement.GetProperty("desired").GetString());
        Assert.Equal($"Deleting {id}.\n", (await CdeAsync(env, "rm", id)).Out);

        // Failures: one line from the problem, and the status that says what kind.
        var missing = await CdeAsync(env, "status", "no-such-workspace");
        Assert.Equal(ExitCodes.NotFound, missing.Exit);
        Assert.Equal("cde: No workspace has the id 'no-such-workspace'.\n", missing.Err);
        var refused = await CdeAsync(env, "up", "file:///etc");
        Assert.Equal(ExitCodes.Failure, refused.Exit);
        Assert.StartsWith("cde: ", refused.Err);
        Assert.DoesNotContain("   at ", refused.Err);
        foreach (var usage in new[] { Array.Empty<string>(), ["up"], ["frobnicate"], ["ls", "--bogus"], ["up", "x", "--idle-timeout", "soon"] })
        {
            var run = await CdeAsync(env, usage);
            Assert.True(run.Exit == ExitCodes.Usage, $"cde {string.Join(' ', usage)}: {run.Exit} {run.Err}");
        }
    }

    [Fact]
    public async Task Up_on_a_terminal_shows_its_progress_then_open_and_rm_finish_the_flow()
    {
        var env = await LoggedInAsync();
        var cde = Path.Combine(RepositoryRoot.Path, "src", "Cli", "bin", AppContext.BaseDirectory.Contains("/Release/", StringComparison.Ordinal) ? "Release" : "Debug", "net10.0", "cde.dll");
        Assert.True(File.Exists(cde), $"cde is not built at {cde}");

        async Task<(int Exit, string Output)> TerminalAsync(string command)
        {
            // script(1) gives the command a pseudo-terminal, as a person's shell would.
            var start = new ProcessStartInfo("script") { ArgumentList = { "-qec", command, "/dev/null" }, RedirectStandardOutput = true, RedirectStandardError = true };
            foreach (var (name, value) in env)
            {
                start.Environment[name] = value;
            }

            using var process = Process.Start(start)!;
            var output = await process.StandardOutput.ReadToEndAsync();
            await process.WaitForExitAsync();
            // Without the terminal's own control sequences (.NET's console sets the keypad mode on a terminal).
            var text = System.Text.RegularExpressions.Regex.Replace(output, @"\x1b(\[[0-9;?]*[A-Za-z]|[=>])", string.Empty);
            return (process.ExitCode, text.Replace("\r", string.Empty, StringComparison.Ordinal));
        }

        var up = await TerminalAsync($"dotnet {cde} up https://github.com/octo/tty-demo");
        Assert.True(up.Exit == 0, up.Output);
        Assert.Contains("[2/5] Building", up.Output);
        Assert.Contains("[5/5] Running", up.Output);
        Assert.DoesNotContain("phase: ", up.Output);
        var id = System.Text.RegularExpressions.Regex.Match(up.Output, @"as (\S+)").Groups[1].Value;

        var open = await TerminalAsync($"dotnet {cde} open {id}");
        Assert.StartsWith($"http://{id}.localhost:", open.Output.Trim());
        var rm = await TerminalAsync($"dotnet {cde} rm {id}");
        Assert.Equal((0, $"Deleting {id}."), (rm.Exit, rm.Output.Trim()));
    }

    [Fact]
    public async Task Launch_options_ports_and_snapshots_from_the_command_line()
    {
        var env = await LoggedInAsync();
        env["MY_TOKEN"] = "from-the-shell-" + Guid.NewGuid().ToString("N");
        var repo = $"https://github.com/octo/cli-{Guid.NewGuid():N}";
        host.Runtime.RepositoryFiles[repo] = new Dictionary<string, string>
        {
            [".devcontainer/devcontainer.json"] = """{ "image": "example.org/default:1" }""",
            [".devcontainer/web/devcontainer.json"] = """{ "image": "example.org/web:1", "forwardPorts": [3000] }""",
        };

        var up = await CdeAsync(env, "up", repo, "--devcontainer-path", ".devcontainer/web/devcontainer.json", "--env", "GREETING=hi", "--env", "MODE=dev", "--secret", "MY_TOKEN", "--json");
        Assert.True(up.Exit == ExitCodes.Ok, up.Err);
        var w = JsonDocument.Parse(up.Out).RootElement;
        var id = w.GetProperty("id").GetString()!;
        Assert.Equal("example.org/web:1", w.GetProperty("image").GetString());
        Assert.Equal(["GREETING", "MODE"], w.GetProperty("environment").EnumerateObject().Select(p => p.Name).Order());
        Assert.Equal(["MY_TOKEN"], w.GetProperty("secrets").EnumerateArray().Select(e => e.GetString()));
        Assert.DoesNotContain(env["MY_TOKEN"], up.Out, StringComparison.Ordinal);
        Assert.Equal(env["MY_TOKEN"], Assert.Single(host.Runtime.Execs(id), e => e.Detached).Environment!["MY_TOKEN"]);

        var ports = await CdeAsync(env, "ports", id);
        Assert.Matches(@"^PORT\s+LISTENING\s+FORWARDED\s+VISIBILITY\s+URL\n3000\s+no\s+yes\s+private\s+http://3000-" + id + @"\.localhost:\d+/\n$", ports.Out);
        Assert.Equal($"Port 3000 of {id} is public: anyone with its URL reaches it.\n", (await CdeAsync(env, "port", id, "3000", "--public")).Out);
        Assert.Equal("public", JsonDocument.Parse((await CdeAsync(env, "ports", id, "--json")).Out).RootElement[0].GetProperty("visibility").GetString());
        Assert.Equal(ExitCodes.Usage, (await CdeAsync(env, "port", id, "3000")).Exit);
        Assert.Equal(ExitCodes.Usage, (await CdeAsync(env, "port", id, "http", "--private")).Exit);
        var ide = await CdeAsync(env, "port", id, "13337", "--public");
        Assert.Equal((ExitCodes.Failure, $"cde: Port 13337 is the workspace's IDE; it is private to its owner and cannot be made public.\n"), (ide.Exit, ide.Err));

        Assert.Contains("No snapshots yet", (await CdeAsync(env, "snapshots", id)).Out);
        Assert.Equal($"Snapshot of {id} asked for; `cde snapshots {id}` lists it once taken.\n", (await CdeAsync(env, "snapshot", id)).Out);
        var kept = new List<JsonElement>();
        for (var i = 0; i < 100 && kept.Count == 0; i++)
        {
            await Task.Delay(100);
            kept = [.. JsonDocument.Parse((await CdeAsync(env, "snapshots", id, "--json")).Out).RootElement.EnumerateArray()];
        }

        var snapshot = Assert.Single(kept).GetProperty("id").GetString()!;
        Assert.Matches(@"^TAKEN \(UTC\)\s+SIZE\s+SNAPSHOT\n\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\s+[\d.]+ (B|KiB)\s+" + System.Text.RegularExpressions.Regex.Escape(snapshot) + "\n$",
            (await CdeAsync(env, "snapshots", id)).Out);

        var whileRunning = await CdeAsync(env, "restore", id, snapshot);
        Assert.Equal(ExitCodes.Failure, whileRunning.Exit);
        Assert.Contains("stop", whileRunning.Err, StringComparison.Ordinal);
        await CdeAsync(env, "stop", id);
        using (var api = Users.WithToken(host.Api, env["CDE_TOKEN"]))
        {
            await Phases.WaitAsync(api, id, "Stopped");
            Assert.Equal($"Starting {id} from the snapshot {snapshot}.\n", (await CdeAsync(env, "restore", id, snapshot)).Out);
            var back = await Phases.WaitAsync(api, id, "Running");
            Assert.Contains(back.GetProperty("events").EnumerateArray(), e => e.GetProperty("message").GetString()!.Contains($"from the snapshot {snapshot}", StringComparison.Ordinal));
        }

        Assert.Equal(ExitCodes.Usage, (await CdeAsync(env, "restore", id)).Exit);
        Assert.Equal(ExitCodes.Usage, (await CdeAsync(env, "up", repo, "--secret", "NOT_SET_ANYWHERE")).Exit);
        await CdeAsync(env, "rm", id);
    }

    [Fact]
    public async Task Keepalive_pin_and_unpin_say_what_the_platform_will_do_and_only_the_owner_may()
    {
        var env = await LoggedInAsync();
        var up = await CdeAsync(env, "up", "https://github.com/octo/keepers", "--idle-timeout", "45", "--json");
        Assert.True(up.Exit == ExitCodes.Ok, up.Err);
        var id = JsonDocument.Parse(up.Out).RootElement.GetProperty("id").GetString()!;

        var before = DateTimeOffset.Now;
        var kept = await CdeAsync(env, "keepalive", id);
        var at = DateTimeOffset.ParseExact(
            System.Text.RegularExpressions.Regex.Match(kept.Out, $@"^Kept alive: {id} stops when idle at (\d{{4}}-\d\d-\d\d \d\d:\d\d)\.\n$").Groups[1].Value,
            "yyyy-MM-dd HH:mm", System.Globalization.CultureInfo.InvariantCulture, System.Globalization.DateTimeStyles.AssumeLocal);
        Assert.InRange(at, before.AddMinutes(44), before.AddMinutes(46));
        Assert.Contains("stops when idle at", (await CdeAsync(env, "status", id)).Out);
        var json = JsonDocument.Parse((await CdeAsync(env, "keepalive", id, "--json")).Out).RootElement;
        Assert.True(json.GetProperty("lastActivityAt").GetDateTimeOffset() >= before.AddSeconds(-1));

        // Someone else's workspace: as if it did not exist.
        var stranger = await LoggedInAsync();
        var refused = await CdeAsync(stranger, "pin", id);
        Assert.Equal(ExitCodes.NotFound, refused.Exit);
        Assert.Equal(ExitCodes.NotFound, (await CdeAsync(stranger, "keepalive", id)).Exit);

        Assert.Equal($"Pinned {id}.\n", (await CdeAsync(env, "pin", id)).Out);
        await CdeAsync(env, "stop", id);
        using (var api = Users.WithToken(host.Api, env["CDE_TOKEN"]))
        {
            var stopped = await Phases.WaitAsync(api, id, "Stopped");
            Assert.True(stopped.GetProperty("pinned").GetBoolean());
            Assert.Equal(JsonValueKind.Null, stopped.GetProperty("deleteAfter").ValueKind);
            Assert.Contains("pinned: kept however long it stays stopped", (await CdeAsync(env, "status", id)).Out);

            var notRunning = await CdeAsync(env, "keepalive", id);
            Assert.Equal((ExitCodes.Failure, $"cde: Only a running workspace is kept alive; '{id}' is Stopped.\n"), (notRunning.Exit, notRunning.Err));

            var unpinned = await CdeAsync(env, "unpin", id);
            Assert.Matches($@"^Unpinned {id}: it will be deleted at \d{{4}}-\d\d-\d\d \d\d:\d\d unless started\.\n$", unpinned.Out);
            var after = await api.GetFromJsonAsync<JsonElement>($"/api/workspaces/{id}");
            Assert.False(after.GetProperty("pinned").GetBoolean());
            Assert.InRange(after.GetProperty("deleteAfter").GetDateTimeOffset(), before.AddDays(30).AddMinutes(-1), DateTimeOffset.Now.AddDays(30).AddMinutes(1));
        }

        await CdeAsync(env, "rm", id);
    }
}
