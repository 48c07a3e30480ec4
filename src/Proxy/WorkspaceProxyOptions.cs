using System.ComponentModel.DataAnnotations;

namespace CloudDevEnv.Proxy;

/// <summary>The workspace proxy's settings, bound from the <c>Proxy</c> configuration section and
/// validated when the host starts.</summary>
public sealed class WorkspaceProxyOptions
{
    public const string SectionName = "Proxy";

    /// <summary>Workspaces are reached at <c>&lt;id&gt;.&lt;Domain&gt;</c> and <c>&lt;port&gt;-&lt;id&gt;.&lt;Domain&gt;</c>.
    /// The default works without DNS: browsers and curl send <c>*.localhost</c> to loopback.</summary>
    [Required, RegularExpression(@"^[a-z0-9]([a-z0-9.-]*[a-z0-9])?$")]
    public string Domain { get; set; } = "localhost";

    /// <summary>The scheme browsers use to reach the proxy; "https" when a TLS terminator sits in front.
    /// Decides the cookie's Secure flag and the origin WebSocket upgrades must come from.</summary>
    [Required, RegularExpression("^https?$")]
    public string PublicScheme { get; set; } = "http";

    /// <summary>The port in the URLs handed out (sign-in links); 0 leaves it out.</summary>
    [Range(0, 65535)]
    public int PublicPort { get; set; } = 5080;

    /// <summary>The key that signs sign-in tokens and access cookies: base64 of at least 32 bytes.
    /// Every API and proxy process of one deployment must share it. In production set it from a secret.</summary>
    public string? SigningKey { get; set; }

    /// <summary>Used when <see cref="SigningKey"/> is empty: the key is read from this file, which is
    /// created with a random key (mode 0600) when missing, so that local cookies survive a restart.</summary>
    public string? SigningKeyFile { get; set; }

    /// <summary>How long a sign-in link stays valid. It is also single-use.</summary>
    [Range(typeof(TimeSpan), "00:00:05", "00:30:00")]
    public TimeSpan SignInTokenLifetime { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>How long an access cookie lives; it is renewed on use once half of it has passed
    /// (Codespaces' private-port cookie lives 3 h).</summary>
    [Range(typeof(TimeSpan), "00:01:00", "7.00:00:00")]
    public TimeSpan CookieLifetime { get; set; } = TimeSpan.FromHours(3);

    /// <summary>A workspace's activity is reported to its grain at most this often by one proxy process.</summary>
    [Range(typeof(TimeSpan), "00:00:00.050", "01:00:00")]
    public TimeSpan ActivityReportInterval { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>YARP's idle timeout for ordinary requests (waiting for response headers or body data).
    /// YARP's default is 100 s; raised so that long polls and quiet event streams of dev servers survive.</summary>
    [Range(typeof(TimeSpan), "00:00:00.100", "1.00:00:00")]
    public TimeSpan RequestActivityTimeout { get; set; } = TimeSpan.FromMinutes(15);

    /// <summary>YARP's idle timeout for upgraded connections (WebSockets). YARP's default of 100 s cuts
    /// quiet sockets of user apps (HMR, notebooks) that do not ping; an IDE tab may sit idle for hours.</summary>
    [Range(typeof(TimeSpan), "00:00:00.100", "7.00:00:00")]
    public TimeSpan WebSocketActivityTimeout { get; set; } = TimeSpan.FromHours(3);

    /// <summary>How long connecting to a workspace port may take before the 502 page.</summary>
    [Range(typeof(TimeSpan), "00:00:00.100", "00:05:00")]
    public TimeSpan ConnectTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>How often the proxy renews its event subscriptions: well within the grain's observer expiry (5 min).</summary>
    [Range(typeof(TimeSpan), "00:00:00.050", "00:04:00")]
    public TimeSpan SubscriptionRenewInterval { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>A cached route not used for this long (and with no open connection) is dropped and its subscription ended.</summary>
    [Range(typeof(TimeSpan), "00:00:00.100", "1.00:00:00")]
    public TimeSpan RouteIdleEviction { get; set; } = TimeSpan.FromMinutes(10);

    /// <summary>Routes of a workspace that is not running are re-read at most this often even without an
    /// event: someone is looking at a page that waits for a change, and one-way events may be lost.</summary>
    [Range(typeof(TimeSpan), "00:00:00", "00:10:00")]
    public TimeSpan NotRunningRouteMaxAge { get; set; } = TimeSpan.FromSeconds(3);

    /// <summary>How often the "starting" page reloads itself.</summary>
    [Range(1, 60)]
    public int StartingPageRefreshSeconds { get; set; } = 2;

    /// <summary>False (the default, as Codespaces does): the upstream sees its own address as Host, which dev
    /// servers' host checks accept, and the browser's host in X-Forwarded-Host, which code-server's Origin check reads.
    /// True: the browser's Host is passed on unchanged.</summary>
    public bool PreserveHost { get; set; }

    /// <summary>Largest request body forwarded; null (the default) lifts Kestrel's 30 MB limit on the proxy port.</summary>
    [Range(0, long.MaxValue)]
    public long? MaxRequestBodySize { get; set; }

    /// <summary>The platform's own address (the API host, where people sign in and see their workspaces). A browser
    /// that reaches a private host without its cookie is sent to <c>&lt;PlatformUrl&gt;authorize</c>, which signs the
    /// owner in to that host; the pages link back here.</summary>
    [Required]
    public string PlatformUrl { get; set; } = "http://127.0.0.1:5000/";
}
