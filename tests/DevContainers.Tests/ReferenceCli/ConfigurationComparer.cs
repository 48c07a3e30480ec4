using System.Globalization;
using System.Text.Json;

namespace CloudDevEnv.DevContainers.Tests.ReferenceCli;

/// <summary>Compares the CLI's substituted configuration with our model, field by field, for every field
/// the model holds. The expectations are derived from the CLI's JSON by the spec's plain rules (written
/// independently of the loader), so a difference in substitution, defaults or reading shows up here.</summary>
internal sealed class ConfigurationComparer
{
    // Top-level keys the model reads; all others must come back unchanged in AdditionalProperties.
    private static readonly HashSet<string> Modelled = new(StringComparer.Ordinal)
    {
        "name", "image", "build", "dockerFile", "context", "containerEnv", "remoteEnv", "containerUser", "remoteUser",
        "workspaceFolder", "workspaceMount", "forwardPorts", "portsAttributes", "otherPortsAttributes", "mounts",
        "hostRequirements", "runArgs", "init", "privileged", "capAdd", "securityOpt", "initializeCommand",
        "onCreateCommand", "updateContentCommand", "postCreateCommand", "postStartCommand", "postAttachCommand",
        "waitFor", "features", "configFilePath",
    };

    private static readonly (string Property, LifecycleHook Hook)[] Hooks =
    [
        ("initializeCommand", LifecycleHook.InitializeCommand), ("onCreateCommand", LifecycleHook.OnCreateCommand),
        ("updateContentCommand", LifecycleHook.UpdateContentCommand), ("postCreateCommand", LifecycleHook.PostCreateCommand),
        ("postStartCommand", LifecycleHook.PostStartCommand), ("postAttachCommand", LifecycleHook.PostAttachCommand),
    ];

    private readonly List<string> _differences = [];
    private readonly HashSet<string> _compared = new(StringComparer.Ordinal);

    /// <summary>The fields compared, for the test's report.</summary>
    public IReadOnlyCollection<string> Compared => _compared;

    public IReadOnlyList<string> Differences => _differences;

    public static ConfigurationComparer Compare(CliResult cli, DevContainerConfig ours)
    {
        var comparer = new ConfigurationComparer();
        comparer.Run(cli, ours);
        return comparer;
    }

    private void Run(CliResult cli, DevContainerConfig ours)
    {
        var c = cli.Configuration;
        Check("configFilePath", c.GetProperty("configFilePath").GetProperty("fsPath").GetString(), ours.Location.ConfigFilePath);
        Check("name", Str(c, "name"), ours.Name);
        Check("image", Str(c, "image"), ours.Image);
        CompareBuild(c, ours);
        CheckMap("containerEnv", StringMap(c, "containerEnv"), ours.ContainerEnv.ToDictionary(kv => kv.Key, kv => (string?)kv.Value));
        CheckMap("remoteEnv", StringMap(c, "remoteEnv"), ours.RemoteEnv.ToDictionary(kv => kv.Key, kv => kv.Value));
        Check("containerUser", Str(c, "containerUser"), ours.ContainerUser);
        Check("remoteUser", Str(c, "remoteUser"), ours.RemoteUser);
        Check("workspaceFolder", Str(cli.Workspace, "workspaceFolder"), ours.WorkspaceFolder);
        Check("workspaceMount", Str(c, "workspaceMount"), ours.WorkspaceMount);
        CheckList("forwardPorts", Items(c, "forwardPorts").Select(ExpectedPort), ours.ForwardPorts.Select(p => p.ToString()));
        ComparePortsAttributes(c, ours);
        CheckList("mounts", Items(c, "mounts").Select(ExpectedMount), ours.Mounts.Select(Describe));
        CompareHostRequirements(c, ours);
        CheckList("runArgs", Items(c, "runArgs").Select(i => i.GetString()!), ours.RunArgs);
        foreach (var (property, hook) in Hooks)
        {
            Check(property, ExpectedCommand(c, property), Describe(ours.GetLifecycleCommand(hook)));
        }
        Check("waitFor", Str(c, "waitFor") ?? "updateContentCommand", char.ToLowerInvariant(ours.WaitFor.ToString()[0]) + ours.WaitFor.ToString()[1..]);
        CompareJsonMap("features", c.TryGetProperty("features", out var features) ? Properties(features) : [], ours.Features);
        CompareJsonMap("additional properties",
            Properties(c).Where(p => !Modelled.Contains(p.Key) && !IsLegacyBuildKey(c, p.Key)), ours.AdditionalProperties);
    }

    private void CompareBuild(JsonElement c, DevContainerConfig ours)
    {
        var configFolder = ours.Location.ConfigFolder;
        string? dockerfile = null, context = null;
        JsonElement build = default;
        var hasBuild = c.TryGetProperty("build", out build) && build.ValueKind == JsonValueKind.Object;
        if (c.TryGetProperty("dockerFile", out var legacy))
        {
            dockerfile = legacy.GetString();
            context = Str(c, "context");
        }
        else if (hasBuild && build.TryGetProperty("dockerfile", out var d))
        {
            dockerfile = d.GetString();
            context = Str(build, "context");
        }
        Check("build.dockerfile", dockerfile, ours.Build?.Dockerfile);
        if (dockerfile is null || ours.Build is null)
        {
            return;
        }
        // The CLI's getDockerfilePath and getDockerContextPath.
        var dockerfilePath = Path.GetFullPath(dockerfile, configFolder);
        Check("build.dockerfile (path)", dockerfilePath, ours.Build.DockerfilePath);
        Check("build.context", context, ours.Build.Context);
        Check("build.context (path)", context is { Length: > 0 } ? Path.GetFullPath(context, configFolder) : Path.GetDirectoryName(dockerfilePath), ours.Build.ContextPath);
        CheckMap("build.args", hasBuild ? StringMap(build, "args") : new Dictionary<string, string?>(), ours.Build.Args.ToDictionary(kv => kv.Key, kv => (string?)kv.Value));
        Check("build.target", hasBuild ? Str(build, "target") : null, ours.Build.Target);
        var cacheFrom = hasBuild && build.TryGetProperty("cacheFrom", out var cf)
            ? cf.ValueKind == JsonValueKind.Array ? cf.EnumerateArray().Select(e => e.GetString()!).ToArray() : [cf.GetString()!]
            : Array.Empty<string>();
        CheckList("build.cacheFrom", cacheFrom, ours.Build.CacheFrom);
    }

    private void ComparePortsAttributes(JsonElement c, DevContainerConfig ours)
    {
        var expected = c.TryGetProperty("portsAttributes", out var pa) ? Properties(pa) : [];
        CheckList("portsAttributes (keys)", expected.Select(p => p.Key), ours.PortsAttributes.Keys);
        foreach (var (key, value) in expected)
        {
            if (ours.PortsAttributes.TryGetValue(key, out var attributes))
            {
                ComparePortAttributes($"portsAttributes.{key}", value, attributes);
            }
        }
        if (c.TryGetProperty("otherPortsAttributes", out var other))
        {
            if (ours.OtherPortsAttributes is null)
            {
                _differences.Add("otherPortsAttributes: the CLI has it, we do not");
            }
            else
            {
                ComparePortAttributes("otherPortsAttributes", other, ours.OtherPortsAttributes);
            }
        }
        else
        {
            Check("otherPortsAttributes", null, ours.OtherPortsAttributes?.ToString());
        }
    }

    private void ComparePortAttributes(string field, JsonElement cli, PortAttributes ours)
    {
        Check(field + ".label", Str(cli, "label"), ours.Label);
        Check(field + ".protocol", Str(cli, "protocol"), ours.Protocol);
        Check(field + ".onAutoForward", Str(cli, "onAutoForward"), ours.OnAutoForward);
        Check(field + ".requireLocalPort", Bool(cli, "requireLocalPort"), ours.RequireLocalPort?.ToString());
        Check(field + ".elevateIfNeeded", Bool(cli, "elevateIfNeeded"), ours.ElevateIfNeeded?.ToString());
        CompareJsonMap(field + " (other)",
            Properties(cli).Where(p => p.Key is not ("label" or "protocol" or "onAutoForward" or "requireLocalPort" or "elevateIfNeeded")),
            ours.AdditionalProperties);
    }

    private void CompareHostRequirements(JsonElement c, DevContainerConfig ours)
    {
        if (!c.TryGetProperty("hostRequirements", out var hr))
        {
            Check("hostRequirements", null, ours.HostRequirements?.ToString());
            return;
        }
        var mine = ours.HostRequirements;
        Check("hostRequirements.cpus", hr.TryGetProperty("cpus", out var cpus) ? cpus.GetRawText() : null, mine?.Cpus?.ToString(CultureInfo.InvariantCulture));
        Check("hostRequirements.memory", Str(hr, "memory"), mine?.Memory);
        Check("hostRequirements.storage", Str(hr, "storage"), mine?.Storage);
        Check("hostRequirements.memory (bytes)", CliRequirementBytes(Str(hr, "memory")), mine?.MemoryBytes?.ToString(CultureInfo.InvariantCulture));
        Check("hostRequirements.storage (bytes)", CliRequirementBytes(Str(hr, "storage")), mine?.StorageBytes?.ToString(CultureInfo.InvariantCulture));
        var gpu = hr.TryGetProperty("gpu", out var g)
            ? g.ValueKind switch
            {
                JsonValueKind.True => "required",
                JsonValueKind.False => null,
                JsonValueKind.String when g.GetString() == "optional" => "optional",
                _ => $"required cores={(g.TryGetProperty("cores", out var cores) ? cores.GetRawText() : "")} memory={Str(g, "memory")}",
            }
            : null;
        var ourGpu = mine?.Gpu switch
        {
            null => null,
            { Optional: true } => "optional",
            { Cores: null, Memory: null } => "required",
            var r => $"required cores={r.Cores} memory={r.Memory}",
        };
        Check("hostRequirements.gpu", gpu, ourGpu);
    }

    // The CLI's parse of requirement sizes (wQ in its bundle): /^(\d+)([tgmk]b)?$/, powers of 1024.
    private static string? CliRequirementBytes(string? text)
    {
        if (text is null)
        {
            return null;
        }
        var match = System.Text.RegularExpressions.Regex.Match(text, "^(\\d+)([tgmk]b)?$");
        if (!match.Success)
        {
            return "0";
        }
        var shift = match.Groups[2].Success ? "kmgt".IndexOf(match.Groups[2].Value[0]) * 10 + 10 : 0;
        return (long.Parse(match.Groups[1].Value, CultureInfo.InvariantCulture) << shift).ToString(CultureInfo.InvariantCulture);
    }

    private static string ExpectedPort(JsonElement item) => item.ValueKind == JsonValueKind.Number
        ? item.GetInt32().ToString(CultureInfo.InvariantCulture)
        : item.GetString()!;

    // Docker --mount fields as the CLI itself splits them (lQ in its bundle), with the aliases it knows.
    private static string ExpectedMount(JsonElement item)
    {
        if (item.ValueKind == JsonValueKind.Object)
        {
            return $"{Str(item, "type")}|{Str(item, "source")}|{Str(item, "target")}|False";
        }
        var fields = item.GetString()!.Split(',').Select(f => f.Split('=', 2)).ToArray();
        string? Field(params string[] keys) => fields.LastOrDefault(f => keys.Contains(f[0]))?.ElementAtOrDefault(1);
        var readOnly = fields.Any(f => f[0] is "readonly" or "ro" && (f.Length == 1 || f[1] is "true" or "1"));
        return $"{Field("type") ?? "volume"}|{Field("source", "src")}|{Field("target", "dst", "destination")}|{readOnly}";
    }

    private static string Describe(DevContainerMount mount) =>
        $"{mount.Type.ToString().ToLowerInvariant()}|{mount.Source}|{mount.Target}|{mount.ReadOnly}";

    // Spec: a string runs in /bin/sh -c, an array is argv, an object is named commands in parallel; blank
    // commands are skipped as the CLI skips them.
    private static string? ExpectedCommand(JsonElement c, string property)
    {
        if (!c.TryGetProperty(property, out var value) || value.ValueKind == JsonValueKind.Null)
        {
            return null;
        }
        static string? Step(string? name, JsonElement e) => e.ValueKind switch
        {
            JsonValueKind.String when !string.IsNullOrWhiteSpace(e.GetString()) => $"{name}=>[/bin/sh|-c|{e.GetString()}]",
            JsonValueKind.Array when e.GetArrayLength() > 0 => $"{name}=>[{string.Join('|', e.EnumerateArray().Select(a => a.GetString()))}]",
            _ => null,
        };
        return value.ValueKind switch
        {
            JsonValueKind.String => Step(null, value) is { } s ? "Shell " + s : null,
            JsonValueKind.Array => Step(null, value) is { } s ? "Exec " + s : null,
            _ => Properties(value).Select(p => Step(p.Key, p.Value)).OfType<string>().ToArray() is { Length: > 0 } steps
                ? "Parallel " + string.Join(" ", steps)
                : null,
        };
    }

    private static string? Describe(LifecycleCommand? command) => command is null
        ? null
        : $"{command.Form} " + string.Join(" ", command.Steps.Select(s => $"{s.Name}=>[{string.Join('|', s.Argv)}]"));

    private static bool IsLegacyBuildKey(JsonElement c, string key) =>
        key == "context" && c.TryGetProperty("dockerFile", out _);

    private void CompareJsonMap(string field, IEnumerable<KeyValuePair<string, JsonElement>> expected, IReadOnlyDictionary<string, JsonElement> actual)
    {
        _compared.Add(field);
        var expectedMap = expected.ToDictionary(p => p.Key, p => p.Value);
        foreach (var key in expectedMap.Keys.Union(actual.Keys))
        {
            var inCli = expectedMap.TryGetValue(key, out var e);
            var inOurs = actual.TryGetValue(key, out var a);
            if (!inCli || !inOurs)
            {
                _differences.Add($"{field}: '{key}' is {(inCli ? "only in the CLI's output" : "only in ours")}");
            }
            else if (!JsonElement.DeepEquals(e, a))
            {
                _differences.Add($"{field}.{key}: CLI {e.GetRawText()} vs ours {a.GetRawText()}");
            }
        }
    }

    private void Check(string field, string? expected, string? actual)
    {
        _compared.Add(field);
        if (expected != actual)
        {
            _differences.Add($"{field}: CLI {Show(expected)} vs ours {Show(actual)}");
        }
    }

    private void CheckList(string field, IEnumerable<string> expected, IEnumerable<string> actual) =>
        Check(field, string.Join(", ", expected), string.Join(", ", actual));

    private void CheckMap(string field, IReadOnlyDictionary<string, string?> expected, IReadOnlyDictionary<string, string?> actual)
    {
        _compared.Add(field);
        foreach (var key in expected.Keys.Union(actual.Keys))
        {
            var inCli = expected.TryGetValue(key, out var e);
            var inOurs = actual.TryGetValue(key, out var a);
            if (!inCli || !inOurs || e != a)
            {
                _differences.Add($"{field}.{key}: CLI {(inCli ? Show(e) : "(absent)")} vs ours {(inOurs ? Show(a) : "(absent)")}");
            }
        }
    }

    private static string Show(string? value) => value is null ? "(none)" : $"\"{value}\"";

    private static string? Str(JsonElement obj, string name) =>
        obj.ValueKind == JsonValueKind.Object && obj.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString() : null;

    private static string? Bool(JsonElement obj, string name) =>
        obj.TryGetProperty(name, out var v) && v.ValueKind is JsonValueKind.True or JsonValueKind.False ? v.GetBoolean().ToString() : null;

    private static IEnumerable<JsonElement> Items(JsonElement obj, string name) =>
        obj.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.Array ? v.EnumerateArray() : [];

    private static IReadOnlyDictionary<string, string?> StringMap(JsonElement obj, string name) =>
        obj.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.Object
            ? v.EnumerateObject().ToDictionary(p => p.Name, p => p.Value.ValueKind == JsonValueKind.Null ? null : p.Value.GetString())
            : new Dictionary<string, string?>();

    private static IEnumerable<KeyValuePair<string, JsonElement>> Properties(JsonElement obj) =>
        obj.EnumerateObject().Select(p => KeyValuePair.Create(p.Name, p.Value));
}
