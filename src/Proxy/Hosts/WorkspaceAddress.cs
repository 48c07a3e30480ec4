namespace CloudDevEnv.Proxy.Hosts;

/// <summary>What a request's host names: a workspace, and a port of it or (when null) its IDE.</summary>
/// <param name="Label">The host's first label as received (<c>id</c> or <c>port-id</c>): cookies are bound to it.</param>
internal readonly record struct WorkspaceAddress(string WorkspaceId, int? Port, string Label)
{
    public bool IsIde => Port is null;
}
