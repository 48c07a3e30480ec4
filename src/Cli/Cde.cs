using System.Globalization;
using System.Text.Json;

namespace CloudDevEnv.Cli;

/// <summary>cde's commands. Each prints for a person, or with <c>--json</c> the API's own JSON for a script; a failure
/// is one line on standard error and an exit status from <see cref="ExitCodes"/>.</summary>
public static class Cde
{
    public const string Usage = """
        cde — CloudDevEnv workspaces from a terminal

        Usage:
          cde login --url <api> --token <token>   store where and as whom cde calls (CDE_URL and CDE_TOKEN win over it)
          cde up <repository> [--ref <ref>] [--machine <class>] [--image <image>] [--idle-timeout <minutes>]
                 [--devcontainer-path <path>] [--env NAME=value]... [--secret NAME[=value]]... [--open]
                                                  launch, follow its progress, print its URL when it runs
                                                  (--secret NAME takes the value from this shell's NAME)
          cde ls                                  my workspaces
          cde status <id>                         one workspace
          cde start <id> | cde stop <id> | cde rm <id>
          cde keepalive <id>                      count as activity now: postpones its idle stop
          cde pin <id> | cde unpin <id>           keep it however long it stays stopped, or let retention delete it
          cde open <id>                           print a single-use sign-in URL for its IDE
          cde logs <id> [-f]                      its recent events; -f follows them
          cde ports <id>                          its ports: what listens, what is forwarded, who may reach each, the URL
          cde port <id> <port> --public|--private who may reach one port (private: you alone, the default)
          cde snapshot <id>                       snapshot its /workspaces folder now (it must be running)
          cde snapshots <id>                      its kept snapshots, newest first
          cde restore <id> <snapshot>             start it (stopped) with /workspaces as in that snapshot
          cde prebuild <repository> [--ref <ref>] build its prebuild on the platform (or follow the one under way),
                                                  print what it does, then the image it registered
        Every command takes --json (the API's JSON, for scripts).
        Exit status: 0 done, 1 failed, 2 usage, 3 not found, 4 not logged in or refused the token.
        """;

    private static readonly string[] Steps = ["Pending", "Building", "Creating", "Initializing", "Running"];

    public static async Task<int> RunAsync(
        string[] args, TextWriter stdout, TextWriter stderr, Func<string, string?> environment, bool piped, CancellationToken cancellationToken)
    {
        try
        {
            var command = CommandLine.Parse(args);
            if (command.Name is "help" || command.Flags.Contains("help"))
            {
                await stdout.WriteLineAsync(Usage);
                return ExitCodes.Ok;
            }

            if (command.Name is null)
            {
                await stderr.WriteLineAsync(Usage);
                return ExitCodes.Usage;
            }

            if (command.Name == "login")
            {
                return await LoginAsync(command, stdout, environment, cancellationToken);
            }

            var api = ApiClient.Create(CliSettings.Load(environment));
            var json = command.Flags.Contains("json");
            return command.Name switch
            {
                "up" => await UpAsync(api, command, stdout, stderr, environment, piped, cancellationToken),
                "ls" => await ListAsync(api, command, stdout, cancellationToken),
                "status" => await StatusAsync(api, command, stdout, cancellationToken),
                "start" or "stop" or "rm" or "keepalive" or "pin" or "unpin" => await CommandAsync(api, command, stdout, cancellationToken),
                "open" => await OpenAsync(api, command, stdout, cancellationToken),
                "logs" => await LogsAsync(api, command, stdout, cancellationToken),
                "ports" => await PortsAsync(api, command, stdout, cancellationToken),
                "port" => await PortAsync(api, command, stdout, cancellationToken),
                "snapshot" => await SnapshotAsync(api, command, stdout, cancellationToken),
                "snapshots" => await SnapshotsAsync(api, command, stdout, cancellationToken),
                "restore" => await RestoreAsync(api, command, stdout, cancellationToken),
                "prebuild" => await PrebuildAsync(api, command, stdout, cancellationToken),
                "exec" => throw new CliException(ExitCodes.Failure, "cde exec: the API offers no way to run a command in a workspace yet; open its IDE's terminal (cde open)."),
                _ => throw new CliException(ExitCodes.Usage, $"Unknown command '{command.Name}'; `cde help` lists them."),
            };
        }
        catch (CliException e)
        {
            await stderr.WriteLineAsync($"cde: {e.Message}");
            return e.ExitCode;
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            return ExitCodes.Failure;
        }
    }

    private static async Task<int> LoginAsync(CommandLine command, TextWriter stdout, Func<string, string?> environment, CancellationToken cancellationToken)
    {
        var url = command.Required("url");
        var token = command.Required("token");
        var settings = new CliSettings(url.TrimEnd('/'), token);
        var me = await ApiClient.Create(settings).GetAsync("/api/me", cancellationToken);
        settings.Save(environment);
        await stdout.WriteLineAsync(command.Flags.Contains("json")
            ? JsonSerializer.Serialize(me, CliJson.Options)
            : $"Logged in to {settings.Url} as {me.GetProperty("user").GetString()} (saved in {CliSettings.ConfigPath(environment)}).");
        return ExitCodes.Ok;
    }

    /// <summary><c>NAME=value</c>, or <c>NAME</c> alone to take the value from cde's own environment (so that a secret
    /// need not be typed where the shell's history keeps it).</summary>
    private static Dictionary<string, string> Variables(string option, IReadOnlyList<string> given, Func<string, string?> environment)
    {
        var variables = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var item in given)
        {
            var equals = item.IndexOf('=', StringComparison.Ordinal);
            var name = equals < 0 ? item : item[..equals];
            var value = equals < 0
                ? environment(name) ?? throw new CliException(ExitCodes.Usage, $"--{option} {name}: {name} is not set in this shell; give --{option} {name}=<value>.")
                : item[(equals + 1)..];
            if (name.Length == 0)
            {
                throw new CliException(ExitCodes.Usage, $"--{option} takes NAME=value or NAME, not '{item}'.");
            }

            variables[name] = value;
        }

        return variables;
    }

    private static async Task<int> UpAsync(
        ApiClient api, CommandLine command, TextWriter stdout, TextWriter stderr, Func<string, string?> environment, bool piped, CancellationToken cancellationToken)
    {
        var repository = command.Argument(0, "repository");
        var body = new Dictionary<string, object> { ["repoUrl"] = repository };
        if (command.Value("ref") is { } gitRef)
        {
            body["ref"] = gitRef;
        }

        if (command.Value("machine") is { } machine)
        {
            body["machine"] = machine;
        }

        if (command.Value("image") is { } image)
        {
            body["image"] = image;
        }

        if (command.Value("devcontainer-path") is { } devcontainerPath)
        {
            body["devcontainerPath"] = devcontainerPath;
        }

        if (command.Values("env") is { Count: > 0 } variables)
        {
            body["environment"] = Variables("env", variables, environment);
        }

        if (command.Values("secret") is { Count: > 0 } secrets)
        {
            body["secrets"] = Variables("secret", secrets, environment);
        }

        if (command.Value("idle-timeout") is { } idle)
        {
            body["idleTimeoutMinutes"] = int.TryParse(idle, NumberStyles.None, CultureInfo.InvariantCulture, out var minutes)
                ? minutes
                : throw new CliException(ExitCodes.Usage, $"--idle-timeout takes whole minutes, not '{idle}'.");
        }

        // A retry of this launch (after a lost answer) must not make a second workspace.
        var created = await api.SendAsync(HttpMethod.Post, "/api/workspaces", body,
            new Dictionary<string, string> { ["Idempotency-Key"] = Guid.NewGuid().ToString("N") }, cancellationToken);
        var id = created.GetProperty("id").GetString()!;
        var json = command.Flags.Contains("json");
        if (!json)
        {
            await stdout.WriteLineAsync($"Launching {repository} as {id}");
        }

        var phase = created.GetProperty("phase").GetString();
        string? reason = null;
        await foreach (var (kind, evt) in api.EventsAsync($"/api/workspaces/{Uri.EscapeDataString(id)}/events", cancellationToken))
        {
            var message = evt.GetProperty("message").GetString() ?? string.Empty;
            if (kind == "phase")
            {
                phase = evt.GetProperty("phase").GetString();
                reason = message.Contains(": ", StringComparison.Ordinal) ? message[(message.IndexOf(": ", StringComparison.Ordinal) + 2)..] : null;
                if (!json)
                {
                    var step = Array.IndexOf(Steps, phase);
                    // On a terminal, a progress counter; piped, plain lines a log can keep.
                    await stdout.WriteLineAsync(piped || step < 0 ? $"phase: {phase}" : $"[{step + 1}/{Steps.Length}] {phase}");
                }
            }
            else if (!json && kind is "log" or "error" or "warning")
            {
                await stdout.WriteLineAsync((kind == "log" ? "    " : "  ! ") + message);
            }

            if (phase is "Running" or "Failed" or "Deleted" or "Stopped")
            {
                break;
            }
        }

        var final = await api.GetAsync($"/api/workspaces/{id}", cancellationToken);
        phase = final.GetProperty("phase").GetString();
        if (json)
        {
            await stdout.WriteLineAsync(JsonSerializer.Serialize(final, CliJson.Options));
        }

        if (phase != "Running")
        {
            await stderr.WriteLineAsync($"cde: {id} is {phase}: {final.GetProperty("reason").GetString() ?? reason ?? "no reason was given"}");
            return ExitCodes.Failure;
        }

        if (!json)
        {
            await stdout.WriteLineAsync($"Running: {final.GetProperty("url").GetString()}");
            if (command.Flags.Contains("open"))
            {
                var open = await api.SendAsync(HttpMethod.Post, $"/api/workspaces/{id}/open", null, null, cancellationToken);
                await stdout.WriteLineAsync($"Open in a browser (single use): {open.GetProperty("url").GetString()}");
            }
        }

        return ExitCodes.Ok;
    }

    private static async Task<int> ListAsync(ApiClient api, CommandLine command, TextWriter stdout, CancellationToken cancellationToken)
    {
        var workspaces = await api.ListAsync("/api/workspaces", cancellationToken);
        if (command.Flags.Contains("json"))
        {
            await stdout.WriteLineAsync(JsonSerializer.Serialize(workspaces, CliJson.Options));
            return ExitCodes.Ok;
        }

        if (workspaces.Count == 0)
        {
            await stdout.WriteLineAsync("No workspaces. Launch one: cde up <repository>");
            return ExitCodes.Ok;
        }

        await WriteTableAsync(stdout, ["ID", "PHASE", "REPOSITORY", "REF", "URL"], workspaces.Select(w => new[]
        {
            w.GetProperty("id").GetString()!, w.GetProperty("phase").GetString()!, w.GetProperty("repoUrl").GetString()!,
            w.GetProperty("ref").GetString() ?? "-", w.GetProperty("url").GetString()!,
        }));

        return ExitCodes.Ok;
    }

    private static async Task<int> StatusAsync(ApiClient api, CommandLine command, TextWriter stdout, CancellationToken cancellationToken)
    {
        var w = await api.GetAsync(WorkspacePath(command), cancellationToken);
        if (command.Flags.Contains("json"))
        {
            await stdout.WriteLineAsync(JsonSerializer.Serialize(w, CliJson.Options));
            return ExitCodes.Ok;
        }

        await stdout.WriteLineAsync($"""
            id:          {w.GetProperty("id").GetString()}
            repository:  {w.GetProperty("repoUrl").GetString()}{(w.GetProperty("ref").GetString() is { } r ? " @ " + r : string.Empty)}
            phase:       {w.GetProperty("phase").GetString()} (wants {w.GetProperty("desired").GetString()}){(w.GetProperty("reason").GetString() is { } why ? ": " + why : string.Empty)}
            image:       {w.GetProperty("image").GetString() ?? "-"}{(w.GetProperty("imageSource").GetString() is { } source ? " (" + source + ")" : string.Empty)}
            url:         {w.GetProperty("url").GetString()}
            """);
        if (Lifecycle(w) is { } lifecycle)
        {
            await stdout.WriteLineAsync($"lifecycle:   {lifecycle}");
        }

        if (w.TryGetProperty("hookFailure", out var failure) && failure.ValueKind == JsonValueKind.String)
        {
            await stdout.WriteLineAsync($"hooks:       {failure.GetString()} (the IDE works; cde logs shows the output)");
        }
        else if (w.TryGetProperty("hooksRunning", out var running) && running.ValueKind == JsonValueKind.True)
        {
            await stdout.WriteLineAsync("hooks:       postCreateCommand/postStartCommand still running (the IDE works meanwhile)");
        }

        return ExitCodes.Ok;
    }

    /// <summary>What happens to the workspace by itself: its idle stop, or its deletion by retention.</summary>
    private static string? Lifecycle(JsonElement w)
    {
        static DateTimeOffset? At(JsonElement w, string name) =>
            w.TryGetProperty(name, out var at) && at.ValueKind == JsonValueKind.String ? at.GetDateTimeOffset() : null;

        return At(w, "idleStopAt") is { } stop ? $"stops when idle at {stop.ToLocalTime():yyyy-MM-dd HH:mm} (cde keepalive postpones it)"
            : At(w, "deleteAfter") is { } delete ? $"deleted at {delete.ToLocalTime():yyyy-MM-dd HH:mm} unless started or pinned (cde pin)"
            : w.TryGetProperty("pinned", out var pinned) && pinned.ValueKind == JsonValueKind.True ? "pinned: kept however long it stays stopped"
            : null;
    }

    private static async Task<int> CommandAsync(ApiClient api, CommandLine command, TextWriter stdout, CancellationToken cancellationToken)
    {
        var path = WorkspacePath(command);
        var (method, target, done) = command.Name switch
        {
            "start" => (HttpMethod.Post, path + "/start", "Starting"),
            "stop" => (HttpMethod.Post, path + "/stop", "Stopping"),
            "keepalive" => (HttpMethod.Post, path + "/keepalive", "Kept alive:"),
            "pin" => (HttpMethod.Post, path + "/pin", "Pinned"),
            "unpin" => (HttpMethod.Delete, path + "/pin", "Unpinned"),
            _ => (HttpMethod.Delete, path, "Deleting"),
        };
        var w = await api.SendAsync(method, target, null, null, cancellationToken);
        var id = w.GetProperty("id").GetString();
        var line = command.Name switch
        {
            "keepalive" when w.TryGetProperty("idleStopAt", out var at) && at.ValueKind == JsonValueKind.String =>
                $"{done} {id} stops when idle at {at.GetDateTimeOffset().ToLocalTime():yyyy-MM-dd HH:mm}.",
            "unpin" when w.TryGetProperty("deleteAfter", out var at) && at.ValueKind == JsonValueKind.String =>
                $"{done} {id}: it will be deleted at {at.GetDateTimeOffset().ToLocalTime():yyyy-MM-dd HH:mm} unless started.",
            _ => $"{done} {id}.",
        };
        await stdout.WriteLineAsync(command.Flags.Contains("json") ? JsonSerializer.Serialize(w, CliJson.Options) : line);
        return ExitCodes.Ok;
    }

    private static async Task<int> OpenAsync(ApiClient api, CommandLine command, TextWriter stdout, CancellationToken cancellationToken)
    {
        var open = await api.SendAsync(HttpMethod.Post, WorkspacePath(command) + "/open", null, null, cancellationToken);
        await stdout.WriteLineAsync(command.Flags.Contains("json") ? JsonSerializer.Serialize(open, CliJson.Options) : open.GetProperty("url").GetString());
        return ExitCodes.Ok;
    }

    private static async Task<int> LogsAsync(ApiClient api, CommandLine command, TextWriter stdout, CancellationToken cancellationToken)
    {
        var json = command.Flags.Contains("json");
        async Task WriteAsync(JsonElement evt) => await stdout.WriteLineAsync(json
            ? JsonSerializer.Serialize(evt)
            : $"{evt.GetProperty("at").GetDateTimeOffset():HH:mm:ss} {evt.GetProperty("kind").GetString(),-8} {evt.GetProperty("message").GetString()}");

        if (!command.Flags.Contains("f"))
        {
            var w = await api.GetAsync(WorkspacePath(command), cancellationToken);
            foreach (var evt in w.GetProperty("events").EnumerateArray())
            {
                await WriteAsync(evt);
            }

            return ExitCodes.Ok;
        }

        await api.GetAsync(WorkspacePath(command), cancellationToken);
        await foreach (var (_, evt) in api.EventsAsync($"/api/workspaces/{Uri.EscapeDataString(command.Argument(0, "workspace id"))}/events", cancellationToken))
        {
            await WriteAsync(evt);
        }

        return ExitCodes.Ok;
    }

    /// <summary>Starts a platform prebuild build (a publisher's token), or finds the one under way, and follows its events
    /// to its end: 0 once its image is registered, 1 with its reason when it failed.</summary>
    private static async Task<int> PrebuildAsync(ApiClient api, CommandLine command, TextWriter stdout, CancellationToken cancellationToken)
    {
        var repository = command.Argument(0, "repository");
        var gitRef = command.Value("ref");
        var json = command.Flags.Contains("json");
        await api.SendAsync(HttpMethod.Post, "/api/prebuilds/build", new { repoUrl = repository, @ref = gitRef }, null, cancellationToken);
        var query = $"?repo={Uri.EscapeDataString(repository)}{(gitRef is null ? string.Empty : $"&ref={Uri.EscapeDataString(gitRef)}")}";
        await foreach (var (kind, evt) in api.EventsAsync("/api/prebuilds/build/events" + query, cancellationToken))
        {
            if (kind != "end")
            {
                if (!json)
                {
                    await stdout.WriteLineAsync(evt.GetProperty("message").GetString());
                }

                continue;
            }

            if (json)
            {
                await stdout.WriteLineAsync(JsonSerializer.Serialize(evt, CliJson.Options));
            }

            if (evt.GetProperty("phase").GetString() != "Succeeded")
            {
                throw new CliException(ExitCodes.Failure, $"The prebuild failed: {evt.GetProperty("reason").GetString()}");
            }

            if (!json)
            {
                await stdout.WriteLineAsync($"Prebuilt {evt.GetProperty("image").GetString()}: launches of {repository} at {gitRef ?? "its default branch"} start from it.");
            }

            return ExitCodes.Ok;
        }

        throw new CliException(ExitCodes.Failure, "The build's event stream ended before the build did; `cde prebuild` again follows it.");
    }

    private static async Task<int> PortsAsync(ApiClient api, CommandLine command, TextWriter stdout, CancellationToken cancellationToken)
    {
        var ports = (await api.GetAsync(WorkspacePath(command) + "/ports", cancellationToken)).EnumerateArray().ToList();
        if (command.Flags.Contains("json"))
        {
            await stdout.WriteLineAsync(JsonSerializer.Serialize(ports, CliJson.Options));
            return ExitCodes.Ok;
        }

        if (ports.Count == 0)
        {
            await stdout.WriteLineAsync("No ports: nothing listens, and devcontainer.json forwards none.");
            return ExitCodes.Ok;
        }

        await WriteTableAsync(stdout, ["PORT", "LISTENING", "FORWARDED", "VISIBILITY", "URL"], ports.Select(p => new[]
        {
            p.GetProperty("port").GetInt32().ToString(CultureInfo.InvariantCulture),
            p.GetProperty("listening").GetBoolean() ? "yes" : "no",
            p.GetProperty("declared").GetBoolean() ? "yes" : "no",
            p.GetProperty("visibility").GetString()!,
            p.GetProperty("url").GetString()!,
        }));
        return ExitCodes.Ok;
    }

    private static async Task<int> PortAsync(ApiClient api, CommandLine command, TextWriter stdout, CancellationToken cancellationToken)
    {
        var portText = command.Argument(1, "port");
        if (!int.TryParse(portText, NumberStyles.None, CultureInfo.InvariantCulture, out var port) || port is < 1 or > 65535)
        {
            throw new CliException(ExitCodes.Usage, $"'{portText}' is not a port number (1 to 65535).");
        }

        var visibility = (command.Flags.Contains("public"), command.Flags.Contains("private")) switch
        {
            (true, false) => "public",
            (false, true) => "private",
            _ => throw new CliException(ExitCodes.Usage, "cde port needs one of --public or --private."),
        };
        var result = await api.SendAsync(HttpMethod.Put, $"{WorkspacePath(command)}/ports/{port}", new { visibility }, null, cancellationToken);
        await stdout.WriteLineAsync(command.Flags.Contains("json")
            ? JsonSerializer.Serialize(result, CliJson.Options)
            : $"Port {port} of {command.Argument(0, "workspace id")} is {visibility}{(visibility == "public" ? ": anyone with its URL reaches it" : ": only you reach it")}.");
        return ExitCodes.Ok;
    }

    private static async Task<int> SnapshotAsync(ApiClient api, CommandLine command, TextWriter stdout, CancellationToken cancellationToken)
    {
        var w = await api.SendAsync(HttpMethod.Post, WorkspacePath(command) + "/snapshots", null, null, cancellationToken);
        await stdout.WriteLineAsync(command.Flags.Contains("json")
            ? JsonSerializer.Serialize(w, CliJson.Options)
            : $"Snapshot of {w.GetProperty("id").GetString()} asked for; `cde snapshots {w.GetProperty("id").GetString()}` lists it once taken.");
        return ExitCodes.Ok;
    }

    private static async Task<int> SnapshotsAsync(ApiClient api, CommandLine command, TextWriter stdout, CancellationToken cancellationToken)
    {
        var kept = (await api.GetAsync(WorkspacePath(command) + "/snapshots", cancellationToken)).EnumerateArray().ToList();
        if (command.Flags.Contains("json"))
        {
            await stdout.WriteLineAsync(JsonSerializer.Serialize(kept, CliJson.Options));
        }
        else if (kept.Count == 0)
        {
            await stdout.WriteLineAsync("No snapshots yet: a stop takes one, and so does `cde snapshot <id>`.");
        }
        else
        {
            await WriteTableAsync(stdout, ["TAKEN (UTC)", "SIZE", "SNAPSHOT"], kept.Select(s => new[]
            {
                s.GetProperty("takenAt").GetDateTimeOffset().UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture),
                Size(s.GetProperty("sizeBytes").GetInt64()),
                s.GetProperty("id").GetString()!,
            }));
        }

        return ExitCodes.Ok;
    }

    private static async Task<int> RestoreAsync(ApiClient api, CommandLine command, TextWriter stdout, CancellationToken cancellationToken)
    {
        var snapshot = command.Argument(1, "snapshot (one of `cde snapshots <id>`)");
        var w = await api.SendAsync(HttpMethod.Post, WorkspacePath(command) + "/restore", new { snapshotId = snapshot }, null, cancellationToken);
        await stdout.WriteLineAsync(command.Flags.Contains("json")
            ? JsonSerializer.Serialize(w, CliJson.Options)
            : $"Starting {w.GetProperty("id").GetString()} from the snapshot {snapshot}.");
        return ExitCodes.Ok;
    }

    private static string Size(long bytes) => bytes switch
    {
        < 1024 => $"{bytes} B",
        < 1024 * 1024 => string.Create(CultureInfo.InvariantCulture, $"{bytes / 1024.0:0.#} KiB"),
        < 1024L * 1024 * 1024 => string.Create(CultureInfo.InvariantCulture, $"{bytes / (1024.0 * 1024):0.#} MiB"),
        _ => string.Create(CultureInfo.InvariantCulture, $"{bytes / (1024.0 * 1024 * 1024):0.##} GiB"),
    };

    /// <summary>Columns padded to their widest cell; the last one is not padded (a URL may be long).</summary>
    private static async Task WriteTableAsync(TextWriter stdout, string[] header, IEnumerable<string[]> rows)
    {
        var all = rows.Prepend(header).ToList();
        var widths = Enumerable.Range(0, header.Length).Select(c => all.Max(r => r[c].Length)).ToArray();
        foreach (var row in all)
        {
            await stdout.WriteLineAsync(string.Join("  ", row.Select((cell, c) => c == header.Length - 1 ? cell : cell.PadRight(widths[c]))));
        }
    }

    private static string WorkspacePath(CommandLine command) => $"/api/workspaces/{Uri.EscapeDataString(command.Argument(0, "workspace id"))}";
}
