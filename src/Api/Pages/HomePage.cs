using System.Security.Claims;
using System.Text.Encodings.Web;
using CloudDevEnv.Api.Identity;

namespace CloudDevEnv.Api.Pages;

/// <summary><c>/</c> for a signed-in browser: who is signed in, how, and the way out. A browser that is not signed in
/// is sent to <c>/signin</c> by the session's challenge.</summary>
public static class HomePage
{
    public static IEndpointRouteBuilder MapHomePage(this IEndpointRouteBuilder endpoints)
    {
        endpoints.MapGet("/", (ClaimsPrincipal user) => Render(user)).ExcludeFromDescription();
        return endpoints;
    }

    private static IResult Render(ClaimsPrincipal user)
    {
        var html = HtmlEncoder.Default;
        var dev = user.IsDevSignIn()
            ? "<p class=\"warning\">Development sign-in: this host believes any user name it is given.</p>"
            : string.Empty;
        var admin = user.IsAdmin() ? "<li><a href=\"/dashboard/\">Operator dashboard</a></li>" : string.Empty;
        var signOut = user.HasSession()
            ? $"<form method=\"post\" action=\"/signout\"><input type=\"hidden\" name=\"{CsrfProtection.FormField}\" value=\"{html.Encode(user.CsrfToken() ?? string.Empty)}\"><button type=\"submit\">Sign out</button></form>"
            : string.Empty;
        return new HtmlPage($$"""
            <!doctype html>
            <html lang="en">
            <head>
            <meta charset="utf-8">
            <meta name="viewport" content="width=device-width, initial-scale=1">
            <title>CloudDevEnv</title>
            <style>
            body { font-family: system-ui, sans-serif; max-width: 40rem; margin: 4rem auto; padding: 0 1rem; color: #222; }
            h1 { font-size: 1.4rem; } .warning { color: #a40; }
            </style>
            </head>
            <body>
            <h1>CloudDevEnv</h1>
            <p>Signed in as <strong id="user">{{html.Encode(user.UserId())}}</strong>.</p>
            {{dev}}
            <ul>
            <li><a href="/api/workspaces">My workspaces (JSON)</a></li>
            <li><a href="/api/tokens">My API tokens (JSON)</a></li>
            <li><a href="/openapi/v1.json">The API (OpenAPI)</a></li>
            {{admin}}
            </ul>
            {{signOut}}
            </body>
            </html>
            """, StatusCodes.Status200OK);
    }
}
