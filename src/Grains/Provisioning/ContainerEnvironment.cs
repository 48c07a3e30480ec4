using System.Text.RegularExpressions;

namespace CloudDevEnv.Grains.Provisioning;

/// <summary>Resolves <c>${containerEnv:NAME}</c> and <c>${containerEnv:NAME:default}</c> in remoteEnv from the
/// running container, as the spec does once a container exists (e.g. <c>"PATH": "${containerEnv:PATH}:/x"</c>).</summary>
internal static partial class ContainerEnvironment
{
    public static async Task<IReadOnlyDictionary<string, string>> ResolveRemoteEnvAsync(
        IWorkspaceRuntime runtime, string workspaceId, WorkspacePlan plan, CancellationToken cancellationToken)
    {
        var names = plan.RemoteEnv.Values
            .SelectMany(v => Reference().Matches(v))
            .Select(m => m.Groups["name"].Value)
            .Distinct(StringComparer.Ordinal)
            .ToList();
        if (names.Count == 0)
        {
            return plan.RemoteEnv;
        }

        var values = await ReadAsync(runtime, workspaceId, plan.RemoteUser, names, cancellationToken);
        return plan.RemoteEnv.ToDictionary(
            kv => kv.Key,
            kv => Reference().Replace(kv.Value, m =>
                values.GetValueOrDefault(m.Groups["name"].Value) ?? (m.Groups["default"].Success ? m.Groups["default"].Value : string.Empty)),
            StringComparer.Ordinal);
    }

    /// <summary>Every referenced variable in one exec, as the workspace user: the environment hooks would see, without
    /// remoteEnv on top. Each is one record, <c>RS name=value</c> or <c>RS name</c> when unset, so that a value may hold
    /// newlines; a record the output's tail did not keep (long values) is asked for alone.</summary>
    private static async Task<Dictionary<string, string?>> ReadAsync(
        IWorkspaceRuntime runtime, string workspaceId, string? user, IReadOnlyList<string> names, CancellationToken cancellationToken)
    {
        Dictionary<string, string?> values = new(StringComparer.Ordinal);
        const string Script = "for n do if v=$(printenv \"$n\"); then printf '\\036%s=%s\\n' \"$n\" \"$v\"; else printf '\\036%s\\n' \"$n\"; fi; done";
        var all = await runtime.ExecAsync(
            workspaceId, new ExecRequest(["/bin/sh", "-c", Script, "cde-env", .. names], User: user), NullProgress.Instance, cancellationToken);
        if (all.ExitCode == 0)
        {
            foreach (var record in all.OutputTail.Split(RecordSeparator).Skip(1))
            {
                var line = record.EndsWith('\n') ? record[..^1] : record;
                var equals = line.IndexOf('=', StringComparison.Ordinal);
                var name = equals < 0 ? line : line[..equals];
                if (names.Contains(name, StringComparer.Ordinal))
                {
                    values[name] = equals < 0 ? null : line[(equals + 1)..].TrimEnd('\n', '\r');
                }
            }
        }

        foreach (var name in names.Where(n => !values.ContainsKey(n)))
        {
            var one = await runtime.ExecAsync(workspaceId, new ExecRequest(["printenv", name], User: user), NullProgress.Instance, cancellationToken);
            values[name] = one.ExitCode == 0 ? one.OutputTail.TrimEnd('\n', '\r') : null;
        }

        return values;
    }

    private const char RecordSeparator = '\u001e';

    [GeneratedRegex(@"\$\{containerEnv:(?<name>[A-Za-z_][A-Za-z0-9_]*)(?::(?<default>[^}]*))?\}", RegexOptions.CultureInvariant)]
    private static partial Regex Reference();
}
