using System.ComponentModel.DataAnnotations;

namespace CloudDevEnv.Platform;

/// <summary>Where browsers reach workspaces: <c>&lt;scheme&gt;://&lt;id&gt;.&lt;Domain&gt;:&lt;port&gt;</c> and
/// <c>&lt;port&gt;-&lt;id&gt;.&lt;Domain&gt;</c>. One setting, read by the grains (the URL in a workspace's status), the
/// API (sign-in links) and the proxy (the host names it answers, its cookies, the WebSocket origin check). Bound from
/// the <c>Proxy</c> section (<c>Proxy:Domain</c>, <c>Proxy:PublicScheme</c>, <c>Proxy:PublicPort</c>).</summary>
public sealed class PublicAddressOptions
{
    public const string SectionName = "Proxy";

    /// <summary>The default works without DNS: browsers and curl send <c>*.localhost</c> to loopback.</summary>
    [Required, RegularExpression(@"^[a-z0-9]([a-z0-9.-]*[a-z0-9])?$")]
    public string Domain { get; set; } = "localhost";

    /// <summary>"https" when a TLS terminator sits in front: decides the cookies' Secure flag and the origin WebSocket
    /// upgrades must come from.</summary>
    [Required, RegularExpression("^https?$")]
    public string PublicScheme { get; set; } = "http";

    /// <summary>The port in the URLs handed out; 0 leaves it out (80 or 443 behind a load balancer).</summary>
    [Range(0, 65535)]
    public int PublicPort { get; set; } = 5080;

    /// <summary>The browser origin of a host label (a workspace id, or <c>&lt;port&gt;-&lt;id&gt;</c>), without the port
    /// when it is 0 or the scheme's default: <c>http://3000-abc.localhost:5080</c>.</summary>
    public string Origin(string label) =>
        PublicPort == 0 || (PublicScheme == "http" && PublicPort == 80) || (PublicScheme == "https" && PublicPort == 443)
            ? $"{PublicScheme}://{label}.{Domain}"
            : $"{PublicScheme}://{label}.{Domain}:{PublicPort}";

    /// <summary>The IDE's URL of a workspace.</summary>
    public string For(string workspaceId) => Origin(workspaceId) + "/";
}
