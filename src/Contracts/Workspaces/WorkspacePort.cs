namespace CloudDevEnv.Contracts.Workspaces;

/// <summary>A port of a workspace as its owner sees it: something listens on it now, devcontainer.json names it in
/// <c>forwardPorts</c>, or its owner made it public. Each is reached through the proxy at its own host.</summary>
/// <param name="Listening">A process of the workspace listens on it now (always false unless Running).</param>
/// <param name="Declared">devcontainer.json lists it in <c>forwardPorts</c>.</param>
[GenerateSerializer, Immutable, Alias("cde.WorkspacePort")]
public sealed record WorkspacePort(int Port, bool Listening, bool Declared, bool Public);
