using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using CloudDevEnv.DevContainers.Reading;

namespace CloudDevEnv.DevContainers.Compose;

/// <summary>The compose files of a devcontainer.json, read the way Docker Compose reads them (the files merged in
/// order, <c>extends</c>, the project's <c>.env</c> for interpolation, merge keys and anchors) and then checked
/// against the platform's policy, service by service, like devcontainer.json itself: a setting outside the policy is
/// left out and named (or refused when the policy is strict). The services are the repository's: nothing here reads
/// outside the repository, nor the platform's own environment.</summary>
public sealed class ComposeProject
{
    private const int MaxFileBytes = 1024 * 1024;

    private static readonly HashSet<string> Quiet = new(StringComparer.Ordinal)
    {
        // Accepted and not applied, with nothing a user would miss: the platform decides them, or they are cosmetic.
        "stdin_open", "tty", "labels", "logging", "init", "expose", "stop_signal", "stop_grace_period", "platform", "pull_policy", "links",
        "cap_drop", "dns", "dns_search",
    };

    private readonly List<LeftOutSetting> _leftOut = [];
    private readonly List<string> _notApplied = [];
    private readonly DevContainerPolicy _policy;
    private readonly string _repository;
    private string _file = string.Empty;

    private ComposeProject(DevContainerPolicy policy, string repository, string folder)
    {
        _policy = policy;
        _repository = Path.GetFullPath(repository);
        Folder = folder;
    }

    /// <summary>The project folder: the first compose file's, where relative paths start.</summary>
    public string Folder { get; }

    public IReadOnlyDictionary<string, ComposeService> Services { get; private set; } = new Dictionary<string, ComposeService>();

    /// <summary>Settings outside the policy, each with why; empty under a strict policy, which refuses them.</summary>
    public IReadOnlyList<LeftOutSetting> LeftOut => _leftOut;

    /// <summary>What was read and is not applied, in words (ports: every port is reachable through the proxy; ...).</summary>
    public IReadOnlyList<string> NotApplied => _notApplied;

    /// <exception cref="ComposeFileException">A file is not a usable compose file.</exception>
    public static ComposeProject Load(DevContainerCompose compose, string repositoryFolder, DevContainerPolicy policy)
    {
        ArgumentNullException.ThrowIfNull(compose);
        var project = new ComposeProject(policy, repositoryFolder, Path.GetDirectoryName(compose.Files[0])!);
        var variables = project.Variables();
        var merged = new JsonObject { ["services"] = new JsonObject() };
        foreach (var file in compose.Files)
        {
            project._file = project.Display(file);
            var root = project.ReadFile(file, variables);
            project.Extend(root, file, variables, depth: 0);
            ComposeMerge.Project(merged, root);
        }

        project._file = project.Display(compose.Files[^1]);
        project.Read(merged);
        return project;
    }

    private Dictionary<string, string> Variables()
    {
        var env = Path.Combine(Folder, ".env");
        return File.Exists(env) && PathGuard.IsInside(env, _repository) && new FileInfo(env).Length <= MaxFileBytes
            ? ComposeInterpolation.ReadEnvFile(File.ReadAllText(env))
            : [];
    }

    private JsonObject ReadFile(string file, IReadOnlyDictionary<string, string> variables)
    {
        if (!PathGuard.IsInside(file, _repository) || !File.Exists(file))
        {
            throw new ComposeFileException(_file, $"{Display(file)} is not a file in the repository");
        }

        if (new FileInfo(file).Length > MaxFileBytes)
        {
            throw new ComposeFileException(Display(file), $"larger than {MaxFileBytes} bytes");
        }

        var root = ComposeYaml.Parse(File.ReadAllText(file), Display(file));
        var interpolation = new ComposeInterpolation(variables, Display(file));
        interpolation.Apply(root);
        foreach (var name in interpolation.Unset.Order(StringComparer.Ordinal))
        {
            _notApplied.Add($"{Display(file)}: the variable {name} is set nowhere (the project's .env file is read, the platform's environment never) and is empty");
        }

        if (root["services"] is not (JsonObject or null))
        {
            throw new ComposeFileException(Display(file), "'services' must be a mapping of service names");
        }

        root["services"] ??= new JsonObject();
        return root;
    }

    /// <summary><c>extends</c>: the named service (of this file or another one of the repository) under this one.</summary>
    private void Extend(JsonObject root, string file, IReadOnlyDictionary<string, string> variables, int depth)
    {
        var services = (JsonObject)root["services"]!;
        foreach (var name in services.Select(s => s.Key).ToList())
        {
            services[name] = Resolved(root, file, name, variables, depth);
        }
    }

    private JsonObject Resolved(JsonObject root, string file, string name, IReadOnlyDictionary<string, string> variables, int depth)
    {
        if (depth > 10)
        {
            throw new ComposeFileException(Display(file), $"services.{name}.extends goes deeper than 10 services (or round in a circle)");
        }

        if (((JsonObject)root["services"]!)[name] is not JsonObject service)
        {
            throw new ComposeFileException(Display(file), $"services.{name} must be a mapping");
        }

        if (service["extends"] is not { } extends)
        {
            return service;
        }

        var (baseName, baseFile) = extends switch
        {
            JsonValue value => (value.ToString(), file),
            JsonObject obj when obj["service"]?.ToString() is { } s => (s, obj["file"]?.ToString() is { } f ? Path.GetFullPath(f, Path.GetDirectoryName(file)!) : file),
            _ => throw new ComposeFileException(Display(file), $"services.{name}.extends must name a service"),
        };
        var baseRoot = baseFile == file ? root : ReadFile(baseFile, variables);
        if (((JsonObject)baseRoot["services"]!)[baseName] is null)
        {
            throw new ComposeFileException(Display(file), $"services.{name}.extends names '{baseName}', which is not a service of {Display(baseFile)}");
        }

        var extended = (JsonObject)Resolved(baseRoot, baseFile, baseName, variables, depth + 1).DeepClone();
        var own = (JsonObject)service.DeepClone();
        extended.Remove("extends");
        own.Remove("extends");
        return ComposeMerge.Service(extended, own);
    }

    private void Read(JsonObject merged)
    {
        foreach (var key in merged.Select(p => p.Key))
        {
            switch (key)
            {
                case "services" or "version" or "name" or "volumes":
                    break;
                case "networks":
                    _notApplied.Add("networks: the services share the workspace's network namespace, as a pod's containers do (each service name resolves to 127.0.0.1)");
                    break;
                case var other when other.StartsWith("x-", StringComparison.Ordinal):
                    break;
                default:
                    _notApplied.Add($"{key}: top-level {key} are not supported by CloudDevEnv");
                    break;
            }
        }

        if (merged["volumes"] is JsonObject volumes)
        {
            foreach (var (name, volume) in volumes)
            {
                if (volume is JsonObject declared && (declared["external"] is JsonValue e && e.ToString() is "true" or "True" || declared["driver"] is not null || declared["driver_opts"] is not null))
                {
                    LeaveOut($"volumes.{name}: external, driver or driver_opts", "a volume outside the workspace (or a driver's) is not the workspace's; it gets a volume of its own");
                }
            }
        }

        var services = new Dictionary<string, ComposeService>(StringComparer.Ordinal);
        foreach (var (name, node) in (JsonObject)merged["services"]!)
        {
            if (node is not JsonObject service)
            {
                throw new ComposeFileException(_file, $"services.{name} must be a mapping");
            }

            services[name] = ReadService(name, service);
        }

        foreach (var (name, service) in services)
        {
            foreach (var dependency in service.DependsOn.Where(d => !services.ContainsKey(d.Service)))
            {
                throw new ComposeFileException(_file, $"services.{name}.depends_on names '{dependency.Service}', which is not a service");
            }
        }

        Services = services;
    }

    private ComposeService ReadService(string name, JsonObject service)
    {
        var at = $"services.{name}";
        var capAdd = new List<string>();
        var securityOptions = new List<string>();
        var mounts = new List<ComposeMount>();
        foreach (var (key, value) in service)
        {
            var setting = $"{at}.{key}";
            switch (key)
            {
                case "image" or "build" or "command" or "entrypoint" or "environment" or "env_file" or "user" or "working_dir"
                    or "depends_on" or "healthcheck" or "shm_size" or "profiles" or "restart" or "ports" or "volumes" or "tmpfs":
                    break;
                case "privileged" when IsTrue(value):
                    LeaveOut($"{setting}: true", ContainerSettingsPolicy.Privileged);
                    break;
                case "pid" or "ipc" or "uts" or "userns_mode" or "cgroup" when value?.ToString() == "host":
                    LeaveOut($"{setting}: host", ContainerSettingsPolicy.HostNamespace(NamespaceOf(key)));
                    break;
                case "network_mode" when value?.ToString() == "host":
                    LeaveOut($"{setting}: host", ContainerSettingsPolicy.HostNamespace("network"));
                    break;
                case "network_mode" or "networks":
                    _notApplied.Add($"{setting}: the services share the workspace's network namespace, as a pod's containers do (each service name resolves to 127.0.0.1)");
                    break;
                case "devices" or "device_cgroup_rules" or "gpus" or "runtime":
                    LeaveOut(setting, ContainerSettingsPolicy.HostDevices);
                    break;
                case "deploy" when ReservesDevices(value):
                    LeaveOut($"{setting}.resources.reservations.devices", ContainerSettingsPolicy.HostDevices);
                    break;
                case "cap_add":
                    foreach (var cap in Strings(value, setting))
                    {
                        var normalized = ContainerSettingsPolicy.NormalizeCapability(cap);
                        if (ContainerSettingsPolicy.CapabilityRefusal(_policy, normalized) is { } why)
                        {
                            LeaveOut($"{setting}: '{cap}'", why);
                        }
                        else
                        {
                            capAdd.Add(normalized);
                        }
                    }

                    break;
                case "security_opt":
                    foreach (var option in Strings(value, setting))
                    {
                        var normalized = ContainerSettingsPolicy.NormalizeSecurityOption(option);
                        if (ContainerSettingsPolicy.SecurityOptionRefusal(_policy, normalized) is { } why)
                        {
                            LeaveOut($"{setting}: '{option}'", why);
                        }
                        else if (normalized != "no-new-privileges")
                        {
                            securityOptions.Add(normalized);
                        }
                    }

                    break;
                case "sysctls" or "volumes_from" or "secrets" or "configs" or "cgroup_parent" or "isolation" or "oom_kill_disable" or "oom_score_adj":
                    LeaveOut(setting, "it is not supported by CloudDevEnv");
                    break;
                case "mem_limit" or "memswap_limit" or "cpus" or "cpu_shares" or "cpu_quota" or "cpuset" or "pids_limit" or "deploy" or "mem_reservation":
                    _notApplied.Add($"{setting}: each service runs within the workspace's machine class (its CPU, memory and process limits)");
                    break;
                case "container_name" or "hostname" or "domainname" or "mac_address" or "extra_hosts" or "external_links":
                    _notApplied.Add($"{setting}: the platform names the containers and their network");
                    break;
                case "extends":
                    break;
                case var quiet when Quiet.Contains(quiet) || quiet.StartsWith("x-", StringComparison.Ordinal):
                    break;
                default:
                    _notApplied.Add($"{setting}: not supported by CloudDevEnv");
                    break;
            }
        }

        foreach (var volume in service["volumes"] as JsonArray ?? [])
        {
            if (ReadMount(volume, $"{at}.volumes") is { } mount)
            {
                mounts.Add(mount);
            }
        }

        foreach (var tmpfs in Strings(service["tmpfs"], $"{at}.tmpfs"))
        {
            mounts.Add(new ComposeMount(ComposeMountType.Tmpfs, null, tmpfs.Split(':')[0], ReadOnly: false));
        }

        if (service["ports"] is JsonArray { Count: > 0 })
        {
            _notApplied.Add($"{at}.ports: not published; every port of every service is reachable through the workspace's proxy (<port>-<id>.<domain>)");
        }

        return new ComposeService
        {
            Name = name,
            Image = OptionalString(service, "image", at),
            Build = ReadBuild(service["build"], $"{at}.build"),
            Command = Words(service["command"], $"{at}.command"),
            Entrypoint = Words(service["entrypoint"], $"{at}.entrypoint"),
            Environment = Environment(service, at),
            User = service["user"] is JsonValue user ? user.ToString() : null,
            WorkingDir = OptionalString(service, "working_dir", at),
            Mounts = mounts,
            DependsOn = [.. ComposeMerge.AsMapping(service["depends_on"]).Select(d => new ComposeDependency(
                d.Key, d.Value is JsonObject condition ? condition["condition"]?.ToString() ?? "service_started" : "service_started"))],
            Healthcheck = ReadHealthcheck(service["healthcheck"], $"{at}.healthcheck"),
            CapAdd = capAdd,
            SecurityOptions = securityOptions,
            ShmSizeBytes = ShmSize(service["shm_size"], at),
            Profiles = Strings(service["profiles"], $"{at}.profiles"),
            Restart = OptionalString(service, "restart", at),
            Ports = [.. (service["ports"] as JsonArray ?? []).Select(p => p?.ToJsonString() ?? string.Empty)],
        };
    }

    private long? ShmSize(JsonNode? node, string at)
    {
        if (node is not JsonValue value)
        {
            return null;
        }

        if (value.GetValueKind() == JsonValueKind.Number)
        {
            return value.GetValue<long>();
        }

        return Sizes.ParseDocker(value.ToString()) ?? throw new ComposeFileException(_file, $"{at}.shm_size '{value}' is not a size");
    }

    private ComposeBuild? ReadBuild(JsonNode? node, string at)
    {
        string context;
        string? dockerfile = null;
        string? target = null;
        var args = new Dictionary<string, string>(StringComparer.Ordinal);
        switch (node)
        {
            case null:
                return null;
            case JsonValue value:
                context = value.ToString();
                break;
            case JsonObject build:
                context = build["context"]?.ToString() ?? ".";
                dockerfile = build["dockerfile"]?.ToString();
                target = build["target"]?.ToString();
                foreach (var (name, value) in ComposeMerge.AsMapping(build["args"]))
                {
                    args[name] = Text(value);
                }

                foreach (var key in build.Select(p => p.Key).Where(k => k is not ("context" or "dockerfile" or "target" or "args")))
                {
                    _notApplied.Add($"{at}.{key}: not supported by CloudDevEnv");
                }

                break;
            default:
                throw new ComposeFileException(_file, $"{at} must be a path or a mapping");
        }

        if (context.Contains("://", StringComparison.Ordinal) || context.StartsWith("git@", StringComparison.Ordinal))
        {
            throw new ComposeFileException(_file, $"{at}: a remote build context ('{context}') is not supported; build from the repository");
        }

        var contextPath = Path.GetFullPath(context, Folder);
        if (!PathGuard.IsInside(contextPath, _repository) || !Directory.Exists(contextPath))
        {
            throw new ComposeFileException(_file, $"{at}: the build context '{context}' is not a folder in the repository");
        }

        dockerfile ??= "Dockerfile";
        var dockerfilePath = Path.GetFullPath(dockerfile, contextPath);
        if (!PathGuard.IsInside(dockerfilePath, _repository) || !File.Exists(dockerfilePath))
        {
            throw new ComposeFileException(_file, $"{at}: the Dockerfile '{dockerfile}' is not a file in the repository");
        }

        return new ComposeBuild(contextPath, Path.GetRelativePath(contextPath, dockerfilePath).Replace('\\', '/'), args, target);
    }

    private ComposeMount? ReadMount(JsonNode? node, string at)
    {
        string? source;
        string target;
        var readOnly = false;
        string type;
        switch (node)
        {
            case JsonValue value:
                var parts = value.ToString().Split(':');
                (source, target) = parts.Length == 1 ? (null, parts[0]) : (parts[0], parts[1]);
                readOnly = parts.Length > 2 && parts[2].Split(',').Contains("ro");
                type = source is null ? "volume" : IsPath(source) ? "bind" : "volume";
                break;
            case JsonObject obj:
                type = obj["type"]?.ToString() ?? "volume";
                source = obj["source"]?.ToString();
                target = obj["target"]?.ToString() ?? throw new ComposeFileException(_file, $"{at}: a volume needs a target");
                readOnly = IsTrue(obj["read_only"]);
                break;
            default:
                throw new ComposeFileException(_file, $"{at}: a volume is a string or a mapping");
        }

        if (!target.StartsWith('/'))
        {
            throw new ComposeFileException(_file, $"{at}: the target '{target}' is not an absolute path");
        }

        switch (type)
        {
            case "volume":
                return new ComposeMount(ComposeMountType.Volume, source, target, readOnly);
            case "tmpfs":
                return new ComposeMount(ComposeMountType.Tmpfs, null, target, readOnly);
            case "bind" when source is not null && !source.StartsWith('/') && !source.StartsWith('~')
                && Path.GetFullPath(source, Folder) is var full && PathGuard.IsInside(_repository, full):
                return new ComposeMount(ComposeMountType.Checkout, full, target, readOnly);
            case "bind" when source is not null && !source.StartsWith('/') && !source.StartsWith('~')
                && Path.GetFullPath(source, Folder) is var full && PathGuard.IsInside(full, _repository):
                return new ComposeMount(ComposeMountType.Repository, full, target, readOnly);
            case "bind":
                LeaveOut($"{at}: '{source}:{target}'", ContainerSettingsPolicy.HostBind);
                return null;
            default:
                LeaveOut($"{at}: type {type}", "it is not supported by CloudDevEnv");
                return null;
        }
    }

    private ComposeHealthcheck? ReadHealthcheck(JsonNode? node, string at)
    {
        if (node is not JsonObject check || IsTrue(check["disable"]))
        {
            return null;
        }

        var test = check["test"] switch
        {
            JsonValue text => ["CMD-SHELL", text.ToString()],
            JsonArray list => Strings(list, $"{at}.test"),
            null => null,
            _ => throw new ComposeFileException(_file, $"{at}.test must be a string or a list"),
        };
        if (test is null || test is ["NONE", ..])
        {
            return null;
        }

        return new ComposeHealthcheck(
            test,
            Duration(check["interval"], $"{at}.interval"),
            Duration(check["timeout"], $"{at}.timeout"),
            Duration(check["start_period"], $"{at}.start_period"),
            check["retries"] is JsonValue retries && int.TryParse(retries.ToString(), NumberStyles.None, CultureInfo.InvariantCulture, out var count) ? count : null);
    }

    private Dictionary<string, string> Environment(JsonObject service, string at)
    {
        var environment = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var entry in service["env_file"] switch
        {
            null => [],
            JsonArray list => list.Select(e => e is JsonObject o ? (Path: o["path"]?.ToString(), Required: !(o["required"] is JsonValue r && r.ToString() is "false" or "False")) : (Path: e?.ToString(), Required: true)),
            var single => [(Path: single.ToString(), Required: true)],
        })
        {
            var path = entry.Path is null ? null : Path.GetFullPath(entry.Path, Folder);
            if (path is null || entry.Path!.StartsWith('/') || !PathGuard.IsInside(path, _repository))
            {
                LeaveOut($"{at}.env_file: '{entry.Path}'", ContainerSettingsPolicy.HostFile);
            }
            else if (!File.Exists(path) || new FileInfo(path).Length > MaxFileBytes)
            {
                if (entry.Required)
                {
                    throw new ComposeFileException(_file, $"{at}.env_file '{entry.Path}' is not a file in the repository");
                }
            }
            else
            {
                foreach (var (name, value) in ComposeInterpolation.ReadEnvFile(File.ReadAllText(path)))
                {
                    environment[name] = value;
                }
            }
        }

        foreach (var (name, value) in ComposeMerge.AsMapping(service["environment"]))
        {
            if (value is null)
            {
                // "NAME" alone takes the value from the shell that runs compose: the platform's is not the repository's.
                _notApplied.Add($"{at}.environment.{name}: no value given (it would come from the shell running compose), so it is not set");
                continue;
            }

            environment[name] = Text(value);
        }

        return environment;
    }

    private IReadOnlyList<string>? Words(JsonNode? node, string at) => node switch
    {
        null => null,
        JsonArray list => Strings(list, at),
        JsonValue value => ShellWords(value.ToString(), at),
        _ => throw new ComposeFileException(_file, $"{at} must be a string or a list"),
    };

    private List<string> Strings(JsonNode? node, string at) => node switch
    {
        null => [],
        JsonArray list => [.. list.Select(item => item is JsonValue v ? Text(v) : throw new ComposeFileException(_file, $"{at} must be a list of strings"))],
        JsonValue value => [Text(value)],
        _ => throw new ComposeFileException(_file, $"{at} must be a string or a list of strings"),
    };

    private string? OptionalString(JsonObject obj, string key, string at) => obj[key] switch
    {
        null => null,
        JsonValue value when value.GetValueKind() == JsonValueKind.String => value.ToString(),
        _ => throw new ComposeFileException(_file, $"{at}.{key} must be a string"),
    };

    /// <summary>How Compose turns a scalar into a string: booleans in lower case, numbers as written.</summary>
    private static string Text(JsonNode? node) => node switch
    {
        null => string.Empty,
        JsonValue value when value.GetValueKind() is JsonValueKind.True => "true",
        JsonValue value when value.GetValueKind() is JsonValueKind.False => "false",
        JsonValue value when value.GetValueKind() is JsonValueKind.Number => value.ToJsonString(),
        _ => node.ToString(),
    };

    /// <summary>Compose splits a string command as a POSIX shell splits words (quotes, backslashes), running no shell.</summary>
    private List<string> ShellWords(string text, string at)
    {
        var words = new List<string>();
        var word = new System.Text.StringBuilder();
        var inWord = false;
        char quote = '\0';
        for (var i = 0; i < text.Length; i++)
        {
            var c = text[i];
            if (quote == '\'')
            {
                if (c == '\'') { quote = '\0'; } else { word.Append(c); }
            }
            else if (quote == '"')
            {
                if (c == '"') { quote = '\0'; }
                else if (c == '\\' && i + 1 < text.Length && text[i + 1] is '"' or '\\' or '$' or '`') { word.Append(text[++i]); }
                else { word.Append(c); }
            }
            else if (c is '\'' or '"')
            {
                quote = c;
                inWord = true;
            }
            else if (c == '\\' && i + 1 < text.Length)
            {
                word.Append(text[++i]);
                inWord = true;
            }
            else if (char.IsWhiteSpace(c))
            {
                if (inWord)
                {
                    words.Add(word.ToString());
                    word.Clear();
                    inWord = false;
                }
            }
            else
            {
                word.Append(c);
                inWord = true;
            }
        }

        if (quote != '\0')
        {
            throw new ComposeFileException(_file, $"{at} has an unclosed {quote} quote");
        }

        if (inWord)
        {
            words.Add(word.ToString());
        }

        return words;
    }

    private TimeSpan? Duration(JsonNode? node, string at)
    {
        if (node is null)
        {
            return null;
        }

        var text = node.ToString().Trim();
        var total = TimeSpan.Zero;
        var match = System.Text.RegularExpressions.Regex.Matches(text, @"(\d+(?:\.\d+)?)(h|ms|m|s|us|ns)");
        if (match.Count == 0 || string.Concat(match.Select(m => m.Value)) != text)
        {
            throw new ComposeFileException(_file, $"{at} '{text}' is not a duration (such as 30s or 1m30s)");
        }

        foreach (System.Text.RegularExpressions.Match part in match)
        {
            var amount = double.Parse(part.Groups[1].Value, CultureInfo.InvariantCulture);
            total += part.Groups[2].Value switch
            {
                "h" => TimeSpan.FromHours(amount),
                "m" => TimeSpan.FromMinutes(amount),
                "s" => TimeSpan.FromSeconds(amount),
                "ms" => TimeSpan.FromMilliseconds(amount),
                _ => TimeSpan.Zero,
            };
        }

        return total;
    }

    private static bool ReservesDevices(JsonNode? deploy) =>
        deploy is JsonObject obj && obj["resources"] is JsonObject resources && resources["reservations"] is JsonObject reservations && reservations["devices"] is not null;

    private static string NamespaceOf(string key) => key switch
    {
        "userns_mode" => "user",
        "cgroup" => "cgroup",
        "uts" => "UTS",
        "pid" => "process",
        _ => "IPC",
    };

    private void LeaveOut(string setting, string why)
    {
        if (_policy.RefuseWhatIsLeftOut)
        {
            throw new ComposeFileException(_file, $"{setting} is not allowed: {why}");
        }

        _leftOut.Add(new LeftOutSetting($"{_file} {setting}", why));
    }

    private string Display(string file) => Path.GetRelativePath(_repository, file).Replace('\\', '/');

    private static bool IsPath(string source) => source.StartsWith('.') || source.StartsWith('/') || source.StartsWith('~') || source.Contains('/');

    private static bool IsTrue(JsonNode? node) => node is JsonValue value && (value.GetValueKind() == JsonValueKind.True || value.ToString() is "true" or "True");
}
