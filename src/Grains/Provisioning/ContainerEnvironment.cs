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

        Dictionary<string, string?> values = new(StringComparer.Ordinal);
        foreach (var name in names)
        {
            // printenv as the workspace user: the environment hooks would see, without remoteEnv on top.
            var result = await runtime.ExecAsync(
                workspaceId, new ExecRequest(["printenv", name], User: plan.RemoteUser), NullProgress.Instance, cancellationToken);
            values[name] = result.ExitCode == 0 ? result.OutputTail.TrimEnd('\n', '\r') : null;
        }

        return plan.RemoteEnv.ToDictionary(
            kv => kv.Key,
            kv => Reference().Replace(kv.Value, m =>
                values.GetValueOrDefault(m.Groups["name"].Value) ?? (m.Groups["default"].Success ? m.Groups["default"].Value : string.Empty)),
            StringComparer.Ordinal);
    }

    [GeneratedRegex(@"\$\{containerEnv:(?<name>[A-Za-z_][A-Za-z0-9_]*)(?::(?<default>[^}]*))?\}", RegexOptions.CultureInvariant)]
    private static partial Regex Reference();
}
