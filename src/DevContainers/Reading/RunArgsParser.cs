using System.Globalization;
using System.Net;
using System.Text.RegularExpressions;
using CloudDevEnv.DevContainers.Jsonc;

namespace CloudDevEnv.DevContainers.Reading;

/// <summary>Reads <c>runArgs</c> with Docker's option syntax (<c>--opt value</c>, <c>--opt=value</c>,
/// <c>-o value</c>, <c>-ovalue</c>, grouped short flags like <c>-it</c>) against an allow-list. Options are
/// accepted into <see cref="RunOptions"/>, accepted and ignored (the platform decides them), or outside the policy:
/// refused or left out (<see cref="PolicyNotes"/>) with a message naming the argument. Unknown options are outside
/// it too: <c>docker run</c> keeps gaining options, and a new one must be looked at before it is applied.</summary>
internal sealed partial class RunArgsParser(PolicyNotes notes)
{
    /// <summary>Labels the runtime uses to find and adopt its containers; a configuration must not forge them.
    /// Mirrors CloudDevEnv.Runtime.RuntimeLabels, which this project does not reference.</summary>
    public const string ReservedLabelPrefix = "dev.clouddevenv.";

    private static readonly Dictionary<char, string> ShortOptions = new()
    {
        ['e'] = "env", ['l'] = "label", ['m'] = "memory", ['h'] = "hostname", ['u'] = "user", ['v'] = "volume",
        ['p'] = "publish", ['w'] = "workdir", ['i'] = "interactive", ['t'] = "tty", ['d'] = "detach", ['P'] = "publish-all",
    };

    private static readonly HashSet<string> Flags = new(StringComparer.Ordinal)
    {
        "init", "privileged", "rm", "detach", "interactive", "tty", "publish-all", "read-only", "oom-kill-disable",
        "no-healthcheck", "sig-proxy",
    };

    // Options that take a value and are accepted but not applied: the platform names, publishes and
    // restarts containers itself, and hooks choose their own working directory.
    private static readonly HashSet<string> IgnoredValueOptions = new(StringComparer.Ordinal)
    {
        "name", "publish", "expose", "platform", "pull", "restart", "stop-signal", "stop-timeout", "workdir", "entrypoint",
    };

    private static readonly HashSet<string> IgnoredFlags = new(StringComparer.Ordinal)
    {
        "rm", "detach", "interactive", "tty", "publish-all", "sig-proxy",
    };

    private readonly Dictionary<string, string> _environment = new(StringComparer.Ordinal);
    private readonly Dictionary<string, string> _labels = new(StringComparer.Ordinal);
    private readonly List<HostEntry> _extraHosts = [];
    private readonly List<string> _capAdd = [];
    private readonly List<string> _capDrop = [];
    private readonly List<string> _securityOptions = [];
    private readonly List<DevContainerMount> _mounts = [];
    private readonly List<string> _ignored = [];
    private long? _memoryBytes;
    private double? _cpus;
    private long? _shmSizeBytes;
    private string? _hostname;
    private string? _user;
    private bool _init;

    /// <summary>Reads the arguments, then the top-level <c>init</c>, <c>privileged</c>, <c>capAdd</c> and
    /// <c>securityOpt</c> properties, which mean the same as the options of those names.</summary>
    /// <exception cref="ConfigValueException">An argument is refused or malformed.</exception>
    public static RunOptions Parse(JsoncArray? runArgs, JsoncObject root, PolicyNotes notes)
    {
        var parser = new RunArgsParser(notes);
        if (runArgs is not null)
        {
            parser.ParseArguments(runArgs);
        }
        parser.ParseProperties(root);
        return parser.Build();
    }

    private void ParseArguments(JsoncArray runArgs)
    {
        var items = runArgs.Items;
        for (var i = 0; i < items.Count; i++)
        {
            var node = items[i];
            var arg = Values.String(node, $"runArgs[{i}]");
            if (arg.StartsWith("--", StringComparison.Ordinal) && arg.Length > 2)
            {
                var equals = arg.IndexOf('=');
                var name = equals < 0 ? arg[2..] : arg[2..equals];
                var inlineValue = equals < 0 ? null : arg[(equals + 1)..];
                i = Apply(name, "--" + name, inlineValue, items, i, node, arg);
            }
            else if (arg.StartsWith('-') && arg.Length > 1 && arg[1] != '-')
            {
                // Grouped short options: flags until one that takes a value, which takes the rest of the text.
                for (var j = 1; j < arg.Length; j++)
                {
                    if (!ShortOptions.TryGetValue(arg[j], out var name))
                    {
                        Refuse(node, $"-{arg[j]}", "is not supported by CloudDevEnv");
                        break;
                    }
                    if (Flags.Contains(name))
                    {
                        ApplyFlag(name, $"-{arg[j]}", null, node);
                        continue;
                    }
                    var rest = arg[(j + 1)..];
                    if (rest.StartsWith('='))
                    {
                        rest = rest[1..];
                    }
                    i = Apply(name, $"-{arg[j]}", rest.Length > 0 ? rest : null, items, i, node, arg);
                    break;
                }
            }
            else
            {
                throw Fail(node, $"runArgs: unexpected argument '{arg}'; runArgs holds 'docker run' options only");
            }
        }
    }

    /// <returns>The index of the last item consumed.</returns>
    private int Apply(string name, string written, string? inlineValue, IReadOnlyList<JsoncNode> items, int index, JsoncNode node, string arg)
    {
        if (name == "net")
        {
            name = "network";
        }
        if (Flags.Contains(name))
        {
            ApplyFlag(name, written, inlineValue, node);
            return index;
        }
        if (!IsKnownValueOption(name))
        {
            // Left out with what looks like its value: the next item, unless it is an option itself.
            var takesNext = inlineValue is null && index + 1 < items.Count && items[index + 1] is JsoncString { Value: var next } && !next.StartsWith('-');
            Refuse(node, written, "is not supported by CloudDevEnv");
            return takesNext ? index + 1 : index;
        }
        var value = inlineValue;
        var display = arg;
        if (value is null)
        {
            if (index + 1 >= items.Count)
            {
                throw Fail(node, $"runArgs: '{written}' needs a value");
            }
            index++;
            value = Values.String(items[index], $"runArgs[{index}]");
            display = $"{arg} {value}";
        }
        ApplyValue(name, written, value, display, node);
        return index;
    }

    private void ApplyFlag(string name, string written, string? inlineValue, JsoncNode node)
    {
        var on = inlineValue is null || inlineValue.Trim().ToLowerInvariant() switch
        {
            "true" or "1" => true,
            "false" or "0" => false,
            _ => throw Fail(node, $"runArgs: '{written}' takes true or false, not '{inlineValue}'"),
        };
        switch (name)
        {
            case "init":
                _init = on;
                break;
            case "privileged" when on:
                Refuse(node, written, "is not allowed: it gives the container full control of the host");
                break;
            case "privileged":
                break;
            case "read-only" or "oom-kill-disable" or "no-healthcheck":
                Refuse(node, written, "is not supported by CloudDevEnv");
                break;
            default:
                if (IgnoredFlags.Contains(name))
                {
                    _ignored.Add(inlineValue is null ? written : $"{written}={inlineValue}");
                    break;
                }
                Refuse(node, written, "is not supported by CloudDevEnv");
                break;
        }
    }

    private static bool IsKnownValueOption(string name) => name is
        "env" or "env-file" or "label" or "label-file" or "memory" or "cpus" or "shm-size" or "hostname" or "add-host"
        or "user" or "cap-add" or "cap-drop" or "security-opt" or "pid" or "ipc" or "uts" or "userns" or "cgroupns"
        or "network" or "device" or "device-cgroup-rule" or "gpus" or "volume" or "volumes-from" or "mount" or "tmpfs"
        || IgnoredValueOptions.Contains(name);

    private void ApplyValue(string name, string written, string value, string display, JsoncNode node)
    {
        switch (name)
        {
            case "env":
                {
                    var equals = value.IndexOf('=');
                    if (equals <= 0)
                    {
                        Refuse(node, display, "is not allowed: write NAME=VALUE (copying a variable from the host is not possible here)");
                        break;
                    }
                    _environment[value[..equals]] = value[(equals + 1)..];
                    break;
                }
            case "env-file" or "label-file":
                Refuse(node, display, "is not allowed: it reads a file on the host");
                break;
            case "label":
                {
                    var equals = value.IndexOf('=');
                    var key = equals < 0 ? value : value[..equals];
                    if (key.Length == 0)
                    {
                        throw Fail(node, $"runArgs: '{display}' needs a label name");
                    }
                    if (key.StartsWith(ReservedLabelPrefix, StringComparison.OrdinalIgnoreCase))
                    {
                        Refuse(node, display, $"is not allowed: labels starting with '{ReservedLabelPrefix}' are reserved for CloudDevEnv");
                        break;
                    }
                    _labels[key] = equals < 0 ? string.Empty : value[(equals + 1)..];
                    break;
                }
            case "memory":
                _memoryBytes = Sizes.ParseDocker(value) is { } memory and > 0
                    ? memory
                    : throw Fail(node, $"runArgs: '{display}' is not a size (e.g. 4g, 512m)");
                break;
            case "shm-size":
                _shmSizeBytes = Sizes.ParseDocker(value) is { } shm and > 0
                    ? shm
                    : throw Fail(node, $"runArgs: '{display}' is not a size (e.g. 1g, 256m)");
                break;
            case "cpus":
                _cpus = double.TryParse(value, NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var cpus) && cpus > 0
                    ? cpus
                    : throw Fail(node, $"runArgs: '{display}' is not a number of CPUs (e.g. 2 or 1.5)");
                break;
            case "hostname":
                _hostname = HostnamePattern().IsMatch(value)
                    ? value
                    : throw Fail(node, $"runArgs: '{display}' is not a valid host name");
                break;
            case "add-host":
                _extraHosts.Add(ParseHostEntry(value, display, node));
                break;
            case "user":
                _user = value.Length > 0 ? value : throw Fail(node, $"runArgs: '{display}' needs a user");
                break;
            case "cap-add":
                if (CheckCapability(value, display, node) is { } capability)
                {
                    _capAdd.Add(capability);
                }

                break;
            case "cap-drop":
                _capDrop.Add(NormalizeCapability(value));
                break;
            case "security-opt":
                if (CheckSecurityOption(value, display, node) is { } securityOption)
                {
                    _securityOptions.Add(securityOption);
                }

                break;
            case "pid" or "ipc" or "uts" or "userns" or "cgroupns" or "network":
                ApplyNamespace(name, value, display, node);
                break;
            case "device" or "device-cgroup-rule" or "gpus":
                Refuse(node, display, "is not allowed: it gives the container access to host devices");
                break;
            case "volumes-from":
                Refuse(node, display, "is not allowed: it shares another container's volumes");
                break;
            case "volume":
                if (ParseVolume(value, display, node) is { } volume)
                {
                    _mounts.Add(volume);
                }

                break;
            case "mount":
                if (ParseMount(value, display, node) is { } mount)
                {
                    _mounts.Add(mount);
                }

                break;
            case "tmpfs":
                _mounts.Add(ParseTmpfs(value, display, node));
                break;
            default:
                // IgnoredValueOptions: accepted, not applied.
                _ignored.Add(display);
                break;
        }
    }

    private void ApplyNamespace(string name, string value, string display, JsoncNode node)
    {
        var mode = value.Trim().ToLowerInvariant();
        var what = name switch
        {
            "pid" => "process",
            "ipc" => "IPC",
            "uts" => "host name (UTS)",
            "userns" => "user",
            "cgroupns" => "cgroup",
            _ => "network",
        };
        if (mode == "host")
        {
            Refuse(node, display, $"is not allowed: it shares the host's {what} namespace with the container");
            return;
        }
        if (mode.StartsWith("container:", StringComparison.Ordinal) || mode.StartsWith("ns:", StringComparison.Ordinal))
        {
            Refuse(node, display, $"is not allowed: it joins another container's {what} namespace");
            return;
        }
        var isDefault = name switch
        {
            "network" => mode is "bridge" or "default",
            "ipc" => mode is "private" or "shareable",
            "cgroupns" => mode is "private",
            _ => false,
        };
        if (!isDefault)
        {
            Refuse(node, display, "is not supported by CloudDevEnv");
            return;
        }
        _ignored.Add(display);
    }

    private void ParseProperties(JsoncObject root)
    {
        if (Values.OptionalBoolean(root, "init", "init") is { } init)
        {
            _init = init;
        }
        if (Values.OptionalBoolean(root, "privileged", "privileged") == true)
        {
            notes.LeaveOut(Values.Get(root, "privileged")!, "'privileged': true", "is not allowed: it gives the container full control of the host");
        }
        if (Values.OptionalArray(root, "capAdd", "capAdd") is { } capAdd)
        {
            for (var i = 0; i < capAdd.Items.Count; i++)
            {
                var value = Values.String(capAdd.Items[i], $"capAdd[{i}]");
                if (CheckCapability(value, value, capAdd.Items[i], "capAdd") is { } capability)
                {
                    _capAdd.Add(capability);
                }
            }
        }
        if (Values.OptionalArray(root, "securityOpt", "securityOpt") is { } securityOpt)
        {
            for (var i = 0; i < securityOpt.Items.Count; i++)
            {
                var value = Values.String(securityOpt.Items[i], $"securityOpt[{i}]");
                if (CheckSecurityOption(value, value, securityOpt.Items[i], "securityOpt") is { } option)
                {
                    _securityOptions.Add(option);
                }
            }
        }
    }

    private static string NormalizeCapability(string value) => ContainerSettingsPolicy.NormalizeCapability(value);

    /// <returns>The capability, or null when the policy left it out.</returns>
    private string? CheckCapability(string value, string display, JsoncNode node, string source = "runArgs")
    {
        var cap = NormalizeCapability(value);
        if (ContainerSettingsPolicy.CapabilityRefusal(notes.Policy, cap) is not { } why)
        {
            return cap;
        }
        notes.LeaveOut(node, $"{source}: '{display}'", $"is not allowed: {why}");
        return null;
    }

    /// <returns>The option as Docker takes it, or null when the policy left it out.</returns>
    private string? CheckSecurityOption(string value, string display, JsoncNode node, string source = "runArgs")
    {
        var normalized = ContainerSettingsPolicy.NormalizeSecurityOption(value);
        if (ContainerSettingsPolicy.SecurityOptionRefusal(notes.Policy, normalized) is not { } why)
        {
            return normalized;
        }
        notes.LeaveOut(node, $"{source}: '{display}'", $"is not allowed: {why}");
        return null;
    }

    private static HostEntry ParseHostEntry(string value, string display, JsoncNode node)
    {
        // Docker accepts host:ip and (newer) host=ip; with '=' the address may be IPv6 with colons.
        var separator = value.IndexOf('=');
        if (separator < 0)
        {
            separator = value.IndexOf(':');
        }
        if (separator > 0)
        {
            var host = value[..separator];
            var address = value[(separator + 1)..].Trim('[', ']');
            if (HostnamePattern().IsMatch(host) && (address == "host-gateway" || IPAddress.TryParse(address, out _)))
            {
                return new HostEntry(host, address);
            }
        }
        throw Fail(node, $"runArgs: '{display}' must be host:address (an IP address or host-gateway)");
    }

    private DevContainerMount? ParseVolume(string value, string display, JsoncNode node)
    {
        var parts = value.Split(':');
        if (parts.Length == 1)
        {
            return CheckMount(new DevContainerMount(DevContainerMountType.Volume, null, parts[0], false, []), display, node);
        }
        if (parts.Length is 2 or 3 && parts[1].Length > 0)
        {
            if (!VolumeNamePattern().IsMatch(parts[0]))
            {
                Refuse(node, display, "is not allowed: it bind-mounts a host path (use a named volume)");
                return null;
            }
            var modes = parts.Length == 3 ? parts[2].Split(',') : [];
            var unknown = modes.FirstOrDefault(m => m is not ("ro" or "rw" or "nocopy" or "z" or "Z" or ""));
            if (unknown is not null)
            {
                throw Fail(node, $"runArgs: '{display}' has the unsupported volume mode '{unknown}'");
            }
            var options = modes.Contains("nocopy") ? new[] { "volume-nocopy" } : [];
            return CheckMount(new DevContainerMount(DevContainerMountType.Volume, parts[0], parts[1], modes.Contains("ro"), options), display, node);
        }
        throw Fail(node, $"runArgs: '{display}' must be name:/path[:ro]");
    }

    private DevContainerMount? ParseMount(string value, string display, JsoncNode node)
    {
        DevContainerMount mount;
        try
        {
            mount = DevContainerMount.Parse(value);
        }
        catch (FormatException e)
        {
            throw Fail(node, $"runArgs: '{display}': {e.Message}");
        }
        return CheckMount(mount, display, node);
    }

    private static DevContainerMount ParseTmpfs(string value, string display, JsoncNode node)
    {
        var colon = value.IndexOf(':');
        var target = colon < 0 ? value : value[..colon];
        if (target.Length == 0)
        {
            throw Fail(node, $"runArgs: '{display}' needs a path");
        }
        var readOnly = false;
        var options = new List<string>();
        foreach (var option in colon < 0 ? [] : value[(colon + 1)..].Split(','))
        {
            var parts = option.Split('=', 2);
            switch (parts[0])
            {
                case "ro":
                    readOnly = true;
                    break;
                case "size" when parts.Length == 2:
                    options.Add("tmpfs-size=" + parts[1]);
                    break;
                case "mode" when parts.Length == 2:
                    options.Add("tmpfs-mode=" + parts[1]);
                    break;
                default:
                    // rw, noexec, nosuid, nodev, exec...: no effect on isolation, not carried over.
                    break;
            }
        }
        return new DevContainerMount(DevContainerMountType.Tmpfs, null, target, readOnly, options.ToArray());
    }

    private DevContainerMount? CheckMount(DevContainerMount mount, string display, JsoncNode node)
    {
        if (MountPolicy.Check(mount) is { } why)
        {
            Refuse(node, display, $"is not allowed: {why}");
            return null;
        }

        return mount;
    }

    private RunOptions Build()
    {
        var nothing = _environment.Count == 0 && _labels.Count == 0 && _memoryBytes is null && _cpus is null
            && _shmSizeBytes is null && _hostname is null && _extraHosts.Count == 0 && _user is null && !_init
            && _capAdd.Count == 0 && _capDrop.Count == 0 && _securityOptions.Count == 0 && _mounts.Count == 0
            && _ignored.Count == 0;
        return nothing
            ? RunOptions.None
            : new RunOptions(
                _environment, _labels, _memoryBytes, _cpus, _shmSizeBytes, _hostname, _extraHosts.ToArray(), _user, _init,
                _capAdd.Distinct().ToArray(), _capDrop.Distinct().ToArray(), _securityOptions.Distinct().ToArray(),
                _mounts.ToArray(), _ignored.ToArray());
    }

    /// <summary>An argument outside the policy: refused, or left out and noted.</summary>
    private void Refuse(JsoncNode node, string argument, string why) => notes.LeaveOut(node, $"runArgs: '{argument}'", why);

    private static ConfigValueException Fail(JsoncNode node, string reason) => Values.Fail(node, reason);

    [GeneratedRegex(@"^[A-Za-z0-9]([A-Za-z0-9.-]{0,252}[A-Za-z0-9])?$", RegexOptions.CultureInvariant)]
    private static partial Regex HostnamePattern();

    // Docker's volume name rule; anything else in the source position is a host path.
    [GeneratedRegex(@"^[A-Za-z0-9][A-Za-z0-9_.-]*$", RegexOptions.CultureInvariant)]
    private static partial Regex VolumeNamePattern();
}
