using System.Text.Json;

namespace CloudDevEnv.Kubernetes.Manifests.Tests.Rendering;

/// <summary>k8s/base/runtime-api-calls.json: the one list of the Kubernetes API calls the platform makes, which the
/// Roles must grant exactly (and which the Kubernetes workspace runtime is to be held to).</summary>
internal sealed record RuntimeApiCalls(string Description, ApiCaller WorkspaceRuntime, ApiCaller OrleansHosting, WorkspacePods WorkspacePods)
{
    public static string FilePath => Path.Combine(RepositoryRoot.Path, "k8s", "base", "runtime-api-calls.json");

    public static RuntimeApiCalls Load() =>
        JsonSerializer.Deserialize<RuntimeApiCalls>(File.ReadAllText(FilePath), new JsonSerializerOptions(JsonSerializerDefaults.Web)
        {
            UnmappedMemberHandling = System.Text.Json.Serialization.JsonUnmappedMemberHandling.Disallow,
        }) ?? throw new InvalidOperationException($"{FilePath} is empty.");
}

/// <param name="ServiceAccount">namespace/name of the account the calls are made as.</param>
/// <param name="Role">The Role in <paramref name="Namespace"/> that grants exactly <paramref name="Calls"/>.</param>
internal sealed record ApiCaller(string ServiceAccount, string Namespace, string Role, IReadOnlyList<ApiCall> Calls)
{
    /// <summary>Every (group, resource, verb) the calls need.</summary>
    public IReadOnlySet<Permission> Permissions =>
        Calls.SelectMany(c => c.Verbs.Select(v => new Permission(c.ApiGroup, c.Resource, v))).ToHashSet();
}

internal sealed record ApiCall(string ApiGroup, string Resource, IReadOnlyList<string> Verbs);

/// <summary>What the workspace runtime puts on every workspace pod, which the NetworkPolicies select.</summary>
internal sealed record WorkspacePods(IDictionary<string, string> Labels, int GatewayPort);

internal readonly record struct Permission(string ApiGroup, string Resource, string Verb)
{
    public override string ToString() => $"{(ApiGroup.Length == 0 ? "core" : ApiGroup)}/{Resource}:{Verb}";
}
