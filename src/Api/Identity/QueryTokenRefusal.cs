using CloudDevEnv.Api.Problems;

namespace CloudDevEnv.Api.Identity;

/// <summary>Refuses an API call that carries a token in its URL (<c>?access_token=</c>, <c>?token=</c>) rather than
/// ignoring it: URLs end up in logs, proxies and browser history, so the caller learns at once to send the header.</summary>
internal sealed class QueryTokenRefusal(RequestDelegate next)
{
    public Task InvokeAsync(HttpContext context)
    {
        var request = context.Request;
        if (request.Path.StartsWithSegments("/api") && (request.Query.ContainsKey("access_token") || request.Query.ContainsKey("token")))
        {
            return ApiProblems.Unauthenticated("Tokens in the URL are refused: send 'Authorization: Bearer <token>' instead.").ExecuteAsync(context);
        }

        return next(context);
    }
}
