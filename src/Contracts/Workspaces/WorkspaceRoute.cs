namespace CloudDevEnv.Contracts.Workspaces;

/// <summary>What the proxy needs to forward a request: who may pass and where to.</summary>
/// <param name="Endpoints">Workspace port → base URI reachable from the proxy; empty unless the workspace runs.</param>
/// <param name="PublicPorts">Ports whose visibility the owner set to public.</param>
[GenerateSerializer, Immutable, Alias("cde.WorkspaceRoute")]
public sealed record WorkspaceRoute(
    string Id,
    string Owner,
    WorkspacePhase Phase,
    DesiredState Desired,
    string? Reason,
    int IdePort,
    ImmutableDictionary<int, Uri> Endpoints,
    ImmutableHashSet<int> PublicPorts,
    long Version);
