using CloudDevEnv.Api.Problems;

namespace CloudDevEnv.Api;

/// <summary>API versions as GitHub's REST API names them: dates. A request may ask for one in the <c>Api-Version</c>
/// header; every answer under /api says which one served it. The paths never change; a version that changes the
/// contract gets a new date, and the one before it is served for at least 24 months after that (README, "Versions").</summary>
public sealed class ApiVersions(RequestDelegate next)
{
    public const string Header = "Api-Version";

    /// <summary>The versions served, newest first.</summary>
    public static readonly string[] Supported = ["2026-12-01"];

    public static string Current => Supported[0];

    public async Task InvokeAsync(HttpContext context)
    {
        if (!context.Request.Path.StartsWithSegments("/api"))
        {
            await next(context);
            return;
        }

        var asked = context.Request.Headers[Header].ToString();
        if (asked.Length > 0 && !Supported.Contains(asked, StringComparer.Ordinal))
        {
            await ApiProblems.Problem(
                StatusCodes.Status400BadRequest,
                "Unsupported API version.",
                $"Api-Version '{(asked.Length > 20 ? asked[..20] + "…" : asked)}' is not served here; this API serves {string.Join(", ", Supported)}.",
                "unsupported-api-version").ExecuteAsync(context);
            return;
        }

        context.Response.Headers[Header] = asked.Length > 0 ? asked : Current;
        await next(context);
    }
}
