using System.Globalization;
using CloudDevEnv.Proxy.Hosts;
using CloudDevEnv.Proxy.Pages;
using CloudDevEnv.Proxy.Routing;
using CloudDevEnv.Proxy.Workspaces;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace CloudDevEnv.Proxy.Access;

/// <summary>The proxy's own paths on workspace hosts.
/// <list type="bullet">
/// <item><c>/_cde/signin?token=…&amp;return=/path</c> on any workspace host: redeems a single-use token minted for
/// that host and answers with the host's access cookie and a redirect, so that the token leaves the address bar.</item>
/// <item><c>/_cde/authorize?port=N&amp;return=/path</c> on the IDE host: the owner's IDE cookie buys a fresh token for
/// port N's host, since a host-only cookie of the IDE host is never sent to a port host.</item>
/// </list></summary>
internal sealed partial class SignInEndpoints(
    WorkspaceAccessTokens tokens,
    AccessCookies cookies,
    WorkspaceRouteCache routes,
    IWorkspaceControl control,
    WorkspaceUrls urls,
    ProxyPages pages,
    ILogger<SignInEndpoints> logger)
{
    public const string AuthorizePath = "/_cde/authorize";

    public async Task HandleAsync(HttpContext context, WorkspaceAddress address)
    {
        var path = context.Request.Path;
        if (path.Equals(WorkspaceAccessTokens.SignInPath, StringComparison.OrdinalIgnoreCase))
        {
            await SignInAsync(context, address);
        }
        else if (path.Equals(AuthorizePath, StringComparison.OrdinalIgnoreCase) && address.IsIde)
        {
            await AuthorizePortAsync(context, address);
        }
        else
        {
            await ProxyPageWriter.WriteAsync(context, pages.ReservedPathNotFound());
        }
    }

    /// <summary>The IDE host's URL that sends the owner on to port <paramref name="port"/>'s host, signed in.</summary>
    public string AuthorizePortUrl(string workspaceId, int port, string returnPath) =>
        new Uri(urls.GetWorkspaceUrl(workspaceId),
            $"{AuthorizePath.TrimStart('/')}?port={port.ToString(CultureInfo.InvariantCulture)}&return={Uri.EscapeDataString(returnPath)}")
        .AbsoluteUri;

    private async Task SignInAsync(HttpContext context, WorkspaceAddress address)
    {
        var grant = tokens.ReadToken(context.Request.Query["token"]);
        if (grant is null || grant.Label != address.Label)
        {
            LogTokenRefused(logger, address.WorkspaceId, grant is null ? "invalid or expired" : "minted for another host");
            await ProxyPageWriter.WriteAsync(context, pages.BadSignInLink());
            return;
        }

        if (!await control.RedeemTokenAsync(grant.Nonce, grant.ExpiresAt))
        {
            LogTokenRefused(logger, address.WorkspaceId, "already used");
            await ProxyPageWriter.WriteAsync(context, pages.BadSignInLink());
            return;
        }

        cookies.Issue(context.Response, address.Label, grant.Owner);
        NoStore(context.Response);
        SeeOther(context.Response, SafeReturnPath(context.Request.Query["return"]));
        LogSignedIn(logger, grant.Owner, address.Label);
    }

    private async Task AuthorizePortAsync(HttpContext context, WorkspaceAddress address)
    {
        var query = context.Request.Query;
        if (!int.TryParse(query["port"], NumberStyles.None, CultureInfo.InvariantCulture, out var port) || port is < 1 or > 65535)
        {
            await ProxyPageWriter.WriteAsync(context, pages.ReservedPathNotFound());
            return;
        }

        var grant = cookies.Read(context.Request, address.Label);
        if (grant is null)
        {
            await ProxyPageWriter.WriteAsync(context, pages.SignInRequired(address.WorkspaceId));
            return;
        }

        // The cookie must still name the workspace's owner, as on every proxied request.
        var route = await routes.GetRouteAsync(routes.GetEntry(address.WorkspaceId));
        if (route is null)
        {
            await ProxyPageWriter.WriteAsync(context, pages.NotFound(address.WorkspaceId));
            return;
        }

        if (!string.Equals(route.Owner, grant.Owner, StringComparison.Ordinal))
        {
            await ProxyPageWriter.WriteAsync(context, pages.NotOwner(address.WorkspaceId));
            return;
        }

        var url = tokens.CreateSignInUrl(address.WorkspaceId, $"{port}-{address.WorkspaceId}", grant.Owner, SafeReturnPath(query["return"]));
        NoStore(context.Response);
        SeeOther(context.Response, url.AbsoluteUri);
    }

    /// <summary>Only a path on the same host: never <c>//evil.example</c> or <c>/\evil.example</c> (open redirects).</summary>
    internal static string SafeReturnPath(string? value) =>
        value is { Length: > 0 } v && v[0] == '/' && (v.Length == 1 || (v[1] != '/' && v[1] != '\\'))
            && !v.Contains('\r') && !v.Contains('\n')
            ? v
            : "/";

    private static void SeeOther(HttpResponse response, string location)
    {
        response.StatusCode = StatusCodes.Status303SeeOther;
        response.Headers.Location = location;
    }

    private static void NoStore(HttpResponse response)
    {
        response.Headers.CacheControl = "no-store";
        response.Headers["Referrer-Policy"] = "no-referrer";
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Refused a sign-in token for workspace {WorkspaceId}: {Reason}")]
    private static partial void LogTokenRefused(ILogger logger, string workspaceId, string reason);

    [LoggerMessage(Level = LogLevel.Information, Message = "Signed {Owner} in to {Label}")]
    private static partial void LogSignedIn(ILogger logger, string owner, string label);
}
