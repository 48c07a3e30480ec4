using System.ComponentModel.DataAnnotations;

namespace CloudDevEnv.Grains.Workspaces;

/// <summary>The public address of workspaces, read from the proxy's own section (<c>Proxy:Domain</c>,
/// <c>Proxy:PublicScheme</c>, <c>Proxy:PublicPort</c>) so that one setting serves both the status URL the
/// grain hands out and the host names the proxy answers to.</summary>
public sealed class WorkspaceUrlOptions
{
    public const string SectionName = "Proxy";

    [Required, RegularExpression(@"^[a-z0-9]([a-z0-9.-]*[a-z0-9])?$")]
    public string Domain { get; set; } = "localhost";

    [Required, RegularExpression("^https?$")]
    public string PublicScheme { get; set; } = "http";

    /// <summary>0 leaves the port out (80 or 443 behind a load balancer).</summary>
    [Range(0, 65535)]
    public int PublicPort { get; set; } = 5080;

    public string For(string workspaceId) => WorkspaceUrl.Origin(PublicScheme, Domain, PublicPort, workspaceId) + "/";
}
