using CloudDevEnv.Contracts.Workspaces;
using CloudDevEnv.Proxy.Access;
using CloudDevEnv.Proxy.Forwarding;
using CloudDevEnv.Proxy.Hosts;
using CloudDevEnv.Proxy.Routing;
using CloudDevEnv.Proxy.Workspaces;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Yarp.ReverseProxy.Forwarder;

namespace CloudDevEnv.Proxy;

/// <summary>The proxy's one terminal middleware: host → workspace → access → phase → forward.</summary>
internal sealed partial class WorkspaceProxyMiddleware(
    WorkspaceHostParser hosts,
    WorkspaceRouteCache routes,
    IWorkspaceControl control,
    AccessCookies cookies,
    OriginPolicy origins,
    SignInEndpoints signIn,
    WorkspaceUrls urls,
    IHttpForwarder forwarder,
    UpstreamClient upstream,
    WorkspaceRequestTransformer transformer,
    ProxyPages pages,
    IOptions<WorkspaceProxyOptions> options,
    TimeProvider time,
    ILogger<WorkspaceProxyMiddleware> logger)
{
    /// <summary>Paths under this prefix are the proxy's own on every workspace host and never reach the workspace.</summary>
    public const string ReservedPrefix = "/_cde";

    // A wake request is repeated at most this often per workspace, however many tabs show the "starting" page.
    private static readonly TimeSpan WakeInterval = TimeSpan.FromSeconds(10);

    private readonly long? _maxRequestBodySize = options.Value.MaxRequestBodySize;

    public async Task InvokeAsync(HttpContext context)
    {
        try
        {
            await HandleAsync(context);
        }
        catch (Exception e) when (!context.RequestAborted.IsCancellationRequested)
        {
            // A page rather than Kestrel's empty 500; the details go to the log only.
            LogUnexpected(logger, context.Request.Host.Value, e);
            await ProxyPageWriter.WriteAsync(context, pages.Unexpected());
        }
    }

    private async Task HandleAsync(HttpContext context)
    {
        var request = context.Request;
        if (!hosts.TryParse(request.Host.Host, out var address))
        {
            await ProxyPageWriter.WriteAsync(context, pages.BadHost(request.Host.Value));
            return;
        }

        if (request.Path.StartsWithSegments(ReservedPrefix, StringComparison.OrdinalIgnoreCase))
        {
            await signIn.HandleAsync(context, address);
            return;
        }

        var entry = routes.GetEntry(address.WorkspaceId);
        WorkspaceRoute? route;
        try
        {
            route = await routes.GetRouteAsync(entry);
        }
        catch (Exception e)
        {
            LogRouteLookupFailed(logger, address.WorkspaceId, e);
            await ProxyPageWriter.WriteAsync(context, pages.ServiceUnavailable(address.WorkspaceId));
            return;
        }

        if (route is null or { Phase: WorkspacePhase.Deleted or WorkspacePhase.Deleting } or { Desired: DesiredState.Deleted })
        {
            await ProxyPageWriter.WriteAsync(context, pages.NotFound(address.WorkspaceId));
            return;
        }

        var isUpgrade = IsUpgrade(context);

        // Only the IDE host is never public: making a port public never opens the IDE's own host.
        var isPublic = address.Port is { } p && route.PublicPorts.Contains(p);
        var grant = cookies.Read(request, address.Label);
        var isOwner = grant is not null && string.Equals(grant.Owner, route.Owner, StringComparison.Ordinal);
        if (!isPublic)
        {
            if (!isOwner)
            {
                await RefuseAsync(context, address, grant);
                return;
            }

            if (isUpgrade && !origins.IsAllowed(request, address))
            {
                LogForeignOrigin(logger, address.WorkspaceId, request.Headers.Origin.ToString());
                await ProxyPageWriter.WriteAsync(context, pages.ForeignOrigin(address.WorkspaceId));
                return;
            }

            if (cookies.NeedsRenewal(grant!))
            {
                cookies.Issue(context.Response, address.Label, grant!.Owner);
            }
        }

        if (route.Phase != WorkspacePhase.Running)
        {
            await NotRunningAsync(context, entry, route, isOwner);
            return;
        }

        if (route is not { Gateway: { } gateway, GatewaySecret: { } secret })
        {
            await ProxyPageWriter.WriteAsync(context, pages.UpstreamDown(address.WorkspaceId, address.Port));
            return;
        }

        // Every host of the workspace goes to its gateway, which takes the request on to the IDE or to the port.
        WorkspaceRequestTransformer.SetTarget(context, address, secret);
        await ForwardAsync(context, entry, address, gateway, isUpgrade);
    }

    private async Task ForwardAsync(HttpContext context, RouteCacheEntry entry, WorkspaceAddress address, Uri gateway, bool isUpgrade)
    {
        var bodySize = context.Features.Get<IHttpMaxRequestBodySizeFeature>();
        if (bodySize is { IsReadOnly: false })
        {
            bodySize.MaxRequestBodySize = _maxRequestBodySize;
        }

        entry.Touch();
        ForwarderError error;
        if (isUpgrade)
        {
            // An open WebSocket keeps the workspace active for as long as it stays open, idle or not.
            entry.ConnectionOpened();
            try
            {
                error = await forwarder.SendAsync(context, gateway.AbsoluteUri, upstream.Invoker, upstream.Upgrade, transformer);
            }
            finally
            {
                entry.ConnectionClosed();
            }
        }
        else
        {
            error = await forwarder.SendAsync(context, gateway.AbsoluteUri, upstream.Invoker, upstream.Request, transformer);
        }

        if (error == ForwarderError.None)
        {
            return;
        }

        var exception = context.Features.Get<IForwarderErrorFeature>()?.Exception;
        LogForwardFailed(logger, address.WorkspaceId, address.Port, error, exception);
        if (error == ForwarderError.Request)
        {
            // The workspace may have moved or stopped and the event been lost: read the route again next time.
            entry.Invalidate();
        }

        if (!context.Response.HasStarted && error is ForwarderError.Request or ForwarderError.RequestTimedOut
                or ForwarderError.ResponseHeaders or ForwarderError.UpgradeRequestDestination)
        {
            await ProxyPageWriter.WriteAsync(context, pages.UpstreamDown(address.WorkspaceId, address.Port));
        }
    }

    private async Task RefuseAsync(HttpContext context, WorkspaceAddress address, AccessGrant? grant)
    {
        var request = context.Request;
        if (grant is not null)
        {
            await ProxyPageWriter.WriteAsync(context, pages.NotOwner(address.WorkspaceId));
            return;
        }

        // A browser opening a page of a private host has no cookie for it yet: the platform, where the owner is
        // signed in, mints one (as Codespaces does). Only page loads; an API call or a WebSocket gets a plain 401.
        if (HttpMethods.IsGet(request.Method) && AcceptsHtml(request) && !IsUpgrade(context))
        {
            context.Response.Redirect(urls.AuthorizeUrl(address.WorkspaceId, address.Port, request.PathBase + request.Path + request.QueryString).AbsoluteUri);
            return;
        }

        await ProxyPageWriter.WriteAsync(context, pages.SignInRequired(address.WorkspaceId));
    }

    private async Task NotRunningAsync(HttpContext context, RouteCacheEntry entry, WorkspaceRoute route, bool isOwner)
    {
        if (route.Phase == WorkspacePhase.Failed)
        {
            await ProxyPageWriter.WriteAsync(context, pages.Failed(route));
            return;
        }

        var stopped = route.Desired == DesiredState.Stopped
            || route.Phase is WorkspacePhase.Stopped or WorkspacePhase.Stopping or WorkspacePhase.Interrupted;
        if (!isOwner)
        {
            // A visitor of a public port does not get to start someone else's workspace.
            await ProxyPageWriter.WriteAsync(context, pages.NotRunning(route));
            return;
        }

        if (stopped && ShouldWake(entry))
        {
            try
            {
                LogWaking(logger, route.Id, route.Phase);
                await control.StartAsync(route.Id, route.Owner);
                entry.Invalidate();
            }
            catch (WorkspaceRejectedException e)
            {
                await ProxyPageWriter.WriteAsync(context, pages.CannotStart(route.Id, e.Message));
                return;
            }
            catch (Exception e)
            {
                LogWakeFailed(logger, route.Id, e);
                await ProxyPageWriter.WriteAsync(context, pages.ServiceUnavailable(route.Id));
                return;
            }
        }

        await ProxyPageWriter.WriteAsync(context, pages.Starting(route));
    }

    private bool ShouldWake(RouteCacheEntry entry)
    {
        var now = time.GetTimestamp();
        var last = Interlocked.Read(ref entry.LastWakeTimestamp);
        return (last == 0 || time.GetElapsedTime(last, now) >= WakeInterval)
            && Interlocked.CompareExchange(ref entry.LastWakeTimestamp, now, last) == last;
    }

    /// <summary>An HTTP/1.1 Upgrade (WebSocket, or another protocol) or an HTTP/2 extended CONNECT (RFC 8441).</summary>
    internal static bool IsUpgrade(HttpContext context) =>
        context.Features.Get<IHttpUpgradeFeature>() is { IsUpgradableRequest: true }
        || context.Features.Get<IHttpExtendedConnectFeature>() is { IsExtendedConnect: true };

    private static bool AcceptsHtml(HttpRequest request) =>
        request.Headers.Accept.ToString().Contains("text/html", StringComparison.OrdinalIgnoreCase);

    [LoggerMessage(Level = LogLevel.Error, Message = "The proxy failed on a request for {Host}")]
    private static partial void LogUnexpected(ILogger logger, string? host, Exception exception);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Route lookup for workspace {WorkspaceId} failed")]
    private static partial void LogRouteLookupFailed(ILogger logger, string workspaceId, Exception exception);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Refused a WebSocket to workspace {WorkspaceId} from foreign origin {Origin}")]
    private static partial void LogForeignOrigin(ILogger logger, string workspaceId, string origin);

    [LoggerMessage(Level = LogLevel.Information, Message = "Forwarding to workspace {WorkspaceId} port {Port} (null: the IDE) failed: {Error}")]
    private static partial void LogForwardFailed(ILogger logger, string workspaceId, int? port, ForwarderError error, Exception? exception);

    [LoggerMessage(Level = LogLevel.Information, Message = "Waking workspace {WorkspaceId} ({Phase}) on its owner's visit")]
    private static partial void LogWaking(ILogger logger, string workspaceId, WorkspacePhase phase);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Waking workspace {WorkspaceId} failed")]
    private static partial void LogWakeFailed(ILogger logger, string workspaceId, Exception exception);
}
