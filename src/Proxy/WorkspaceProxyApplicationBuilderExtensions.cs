using CloudDevEnv.Proxy.Hosts;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;

namespace CloudDevEnv.Proxy;

public static class WorkspaceProxyApplicationBuilderExtensions
{
    /// <summary>Ends the pipeline with the workspace proxy: every request is for a workspace host. Put it on a
    /// pipeline (or a branch, e.g. <c>MapWhen</c> on the local port) of its own, listening on the proxy port (5080).</summary>
    /// <param name="otherHosts">Where a request for a host that is not a workspace's goes instead of the "not a
    /// workspace address" page, e.g. a proxy process's own health endpoints; a workspace's own paths (its app's
    /// <c>/healthz</c>) always reach the workspace.</param>
    public static IApplicationBuilder UseWorkspaceProxy(this IApplicationBuilder app, Action<IApplicationBuilder>? otherHosts = null)
    {
        if (otherHosts is not null)
        {
            var hosts = app.ApplicationServices.GetRequiredService<WorkspaceHostParser>();
            app.MapWhen(context => !hosts.TryParse(context.Request.Host.Host, out _), otherHosts);
        }

        var middleware = app.ApplicationServices.GetRequiredService<WorkspaceProxyMiddleware>();
        app.Run(middleware.InvokeAsync);
        return app;
    }
}
