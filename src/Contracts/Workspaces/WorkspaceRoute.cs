namespace CloudDevEnv.Contracts.Workspaces;

/// <summary>What the proxy needs to forward a request: who may pass and where to.</summary>
/// <param name="Gateway">The workspace gateway's address, reachable from the proxy; null unless the workspace runs.
/// Every request to the workspace, its IDE or any port, goes there.</param>
/// <param name="GatewaySecret">What the proxy sends the gateway on every request, and never to a browser.</param>
/// <param name="PublicPorts">Ports whose visibility the owner set to public.</param>
[GenerateSerializer, Immutable, Alias("cde.WorkspaceRoute")]
public sealed record WorkspaceRoute(
    string Id,
    string Owner,
    WorkspacePhase Phase,
    DesiredState Desired,
    string? Reason,
    Uri? Gateway,
    string? GatewaySecret,
    ImmutableHashSet<int> PublicPorts,
    long Version);
