using CloudDevEnv.Proxy.Hosts;
using CloudDevEnv.Proxy.Workspaces;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace CloudDevEnv.Proxy.Access;

/// <summary>The proxy's own path on workspace hosts: <c>/_cde/signin?token=…&amp;return=/path</c> redeems a single-use
/// token that the platform minted for that host (on <c>/authorize</c>, for its signed-in owner) and answers with the
/// host's access cookie and a redirect, so that the token leaves the address bar.</summary>
internal sealed partial class SignInEndpoints(
    WorkspaceAccessTokens tokens,
    AccessCookies cookies,
    IWorkspaceControl control,
    ProxyPages pages,
    ILogger<SignInEndpoints> logger)
{
    public async Task HandleAsync(HttpContext context, WorkspaceAddress address)
    {
        var path = context.Request.Path;
        if (path.Equals(WorkspaceAccessTokens.SignInPath, StringComparison.OrdinalIgnoreCase))
        {
            await SignInAsync(context, address);
        }
        else
        {
            await ProxyPageWriter.WriteAsync(context, pages.ReservedPathNotFound());
        }
    }

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
        SeeOther(context.Response, ReturnPath.Sanitize(context.Request.Query["return"]));
        LogSignedIn(logger, grant.Owner, address.Label);
    }

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
