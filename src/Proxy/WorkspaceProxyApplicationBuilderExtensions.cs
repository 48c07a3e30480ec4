using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;

namespace CloudDevEnv.Proxy;

public static class WorkspaceProxyApplicationBuilderExtensions
{
    /// <summary>Ends the pipeline with the workspace proxy: every request is for a workspace host. Put it on a
    /// pipeline (or a branch, e.g. <c>MapWhen</c> on the local port) of its own, listening on the proxy port (5080).</summary>
    public static IApplicationBuilder UseWorkspaceProxy(this IApplicationBuilder app)
    {
        var middleware = app.ApplicationServices.GetRequiredService<WorkspaceProxyMiddleware>();
        app.Run(middleware.InvokeAsync);
        return app;
    }
}
