using System.ComponentModel.DataAnnotations;

namespace CloudDevEnv.Access;

/// <summary>What the API and the proxy must agree on to let a browser into a workspace host, bound from the
/// <c>Proxy</c> section and validated at start-up: the signing key, how long a sign-in link lasts, where people sign
/// in, and the pages' refresh.</summary>
public sealed class WorkspaceAccessOptions
{
    public const string SectionName = "Proxy";

    /// <summary>The key that signs sign-in tokens and access cookies: base64 of at least 32 bytes. Every API and proxy
    /// process of one deployment must share it. In production set it from a secret.</summary>
    public string? SigningKey { get; set; }

    /// <summary>Used when <see cref="SigningKey"/> is empty: the key is read from this file, which is created with a
    /// random key (mode 0600) when missing, so that local cookies survive a restart.</summary>
    public string? SigningKeyFile { get; set; }

    /// <summary>How long a sign-in link stays valid. It is also single-use.</summary>
    [Range(typeof(TimeSpan), "00:00:05", "00:30:00")]
    public TimeSpan SignInTokenLifetime { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>The platform's own address (the API host, where people sign in and see their workspaces). A browser
    /// that reaches a private host without its cookie is sent to <c>&lt;PlatformUrl&gt;authorize</c>, which signs the
    /// owner in to that host; the pages link back here.</summary>
    [Required]
    public string PlatformUrl { get; set; } = "http://127.0.0.1:5000/";

    /// <summary>How often the "starting" page reloads itself.</summary>
    [Range(1, 60)]
    public int StartingPageRefreshSeconds { get; set; } = 2;
}
