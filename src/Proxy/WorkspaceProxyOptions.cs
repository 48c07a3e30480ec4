using System.ComponentModel.DataAnnotations;

namespace CloudDevEnv.Proxy;

/// <summary>The workspace proxy's own settings, bound from the <c>Proxy</c> configuration section and validated when
/// the host starts. The public address (<see cref="CloudDevEnv.Platform.PublicAddressOptions"/>) and what the proxy
/// shares with the API (<see cref="CloudDevEnv.Access.WorkspaceAccessOptions"/>) are bound from the same section.</summary>
public sealed class WorkspaceProxyOptions
{
    public const string SectionName = "Proxy";

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

    /// <summary>False (the default, as Codespaces does): the upstream sees its own address as Host, which dev
    /// servers' host checks accept, and the browser's host in X-Forwarded-Host, which code-server's Origin check reads.
    /// True: the browser's Host is passed on unchanged.</summary>
    public bool PreserveHost { get; set; }

    /// <summary>Largest request body forwarded; null (the default) lifts Kestrel's 30 MB limit on the proxy port.</summary>
    [Range(0, long.MaxValue)]
    public long? MaxRequestBodySize { get; set; }
}
