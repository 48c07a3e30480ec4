namespace CloudDevEnv.Contracts.Workspaces;

/// <summary>How a workspace's public address is spelled, in one place for the grain (its status URL)
/// and the proxy (links, cookies, the WebSocket origin check).</summary>
public static class WorkspaceUrl
{
    /// <summary><c>http://&lt;label&gt;.&lt;domain&gt;:&lt;port&gt;</c>, without the port when it is 0 or the scheme's default.
    /// The label is a workspace id, or <c>&lt;port&gt;-&lt;id&gt;</c> for one of its ports.</summary>
    public static string Origin(string scheme, string domain, int port, string label) =>
        port == 0 || (scheme == "http" && port == 80) || (scheme == "https" && port == 443)
            ? $"{scheme}://{label}.{domain}"
            : $"{scheme}://{label}.{domain}:{port}";
}
