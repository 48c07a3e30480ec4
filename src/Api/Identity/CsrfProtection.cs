using System.Security.Cryptography;
using System.Text;
using CloudDevEnv.Api.Problems;

namespace CloudDevEnv.Api.Identity;

/// <summary>Cross-site request forgery, refused twice over for every state-changing request:
/// <list type="bullet">
/// <item>a browser's <c>Origin</c>, when sent, must be this very origin;</item>
/// <item>a request that the session cookie authenticated must carry the session's CSRF token, in the
/// <c>X-CSRF-Token</c> header (from <c>/api/me</c>) or, for a plain HTML form, the <c>csrfToken</c> field. A page on
/// another site can make the browser send the cookie, but cannot read the token.</item>
/// </list>
/// Bearer calls need no token: a browser never adds an Authorization header by itself. The sign-in routes, which have
/// no session yet, are checked by Origin only.</summary>
internal sealed class CsrfProtection(RequestDelegate next)
{
    public const string HeaderName = "X-CSRF-Token";
    public const string FormField = "csrfToken";

    public async Task InvokeAsync(HttpContext context)
    {
        var request = context.Request;
        if (HttpMethods.IsGet(request.Method) || HttpMethods.IsHead(request.Method) || HttpMethods.IsOptions(request.Method))
        {
            await next(context);
            return;
        }

        if (request.Headers.Origin is { Count: > 0 } origin && !IsSameOrigin(request, origin.ToString()))
        {
            await ApiProblems.Forbidden("The request came from a page of another site.").ExecuteAsync(context);
            return;
        }

        var user = context.User;
        if (user.HasSession() && !request.Path.StartsWithSegments("/signin") && !await HasTokenAsync(request, user.CsrfToken()))
        {
            await ApiProblems.Problem(
                StatusCodes.Status403Forbidden,
                "Missing CSRF token.",
                $"Requests made with the session cookie must send the {HeaderName} header with the token from /api/me.",
                "csrf").ExecuteAsync(context);
            return;
        }

        await next(context);
    }

    private static bool IsSameOrigin(HttpRequest request, string origin) =>
        string.Equals(origin, $"{request.Scheme}://{request.Host.Value}", StringComparison.OrdinalIgnoreCase);

    private static async Task<bool> HasTokenAsync(HttpRequest request, string? expected)
    {
        if (string.IsNullOrEmpty(expected))
        {
            return false;
        }

        string? sent = request.Headers[HeaderName];
        if (string.IsNullOrEmpty(sent) && request.HasFormContentType)
        {
            sent = (await request.ReadFormAsync(request.HttpContext.RequestAborted))[FormField];
        }

        return sent is not null
            && CryptographicOperations.FixedTimeEquals(Encoding.UTF8.GetBytes(sent), Encoding.UTF8.GetBytes(expected));
    }
}
