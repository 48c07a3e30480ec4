using System.Diagnostics;
using System.Net;
using Microsoft.Extensions.Options;
using Yarp.ReverseProxy.Forwarder;

namespace CloudDevEnv.Proxy.Forwarding;

/// <summary>The one <see cref="HttpMessageInvoker"/> all workspaces share (its pool keeps connections per
/// destination) and the two request configurations: ordinary requests and upgraded connections.</summary>
internal sealed class UpstreamClient : IDisposable
{
    public UpstreamClient(IOptions<WorkspaceProxyOptions> options)
    {
        var o = options.Value;

        // The settings YARP's direct-forwarding guide recommends: no proxy, redirects, decompression or cookies
        // of its own, so that the response reaches the browser as the workspace sent it.
        Invoker = new HttpMessageInvoker(new SocketsHttpHandler
        {
            UseProxy = false,
            AllowAutoRedirect = false,
            AutomaticDecompression = DecompressionMethods.None,
            UseCookies = false,
            EnableMultipleHttp2Connections = true,
            ActivityHeadersPropagator = new ReverseProxyPropagator(DistributedContextPropagator.Current),
            ConnectTimeout = o.ConnectTimeout,
        });

        // Workspaces serve cleartext HTTP/1.1 (code-server, dev servers); asking for HTTP/1.1 outright avoids a
        // failed HTTP/2 attempt, and an HTTP/2 WebSocket from the browser is turned into an HTTP/1.1 upgrade.
        Request = new ForwarderRequestConfig
        {
            ActivityTimeout = o.RequestActivityTimeout,
            Version = HttpVersion.Version11,
            VersionPolicy = HttpVersionPolicy.RequestVersionOrLower,
        };
        Upgrade = Request with { ActivityTimeout = o.WebSocketActivityTimeout };
    }

    public HttpMessageInvoker Invoker { get; }

    public ForwarderRequestConfig Request { get; }

    public ForwarderRequestConfig Upgrade { get; }

    public void Dispose() => Invoker.Dispose();
}
