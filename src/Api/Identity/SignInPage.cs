using System.Text.Encodings.Web;
using CloudDevEnv.Api.Pages;

namespace CloudDevEnv.Api.Identity;

/// <summary>The sign-in page: a button per provider and, in local mode, the development sign-in form. Server-rendered,
/// no scripts; every value is HTML-encoded.</summary>
internal static class SignInPage
{
    public static IResult Render(SignInProviders providers, string returnUrl, string? error, string? signedInAs, int status = StatusCodes.Status200OK)
    {
        var html = HtmlEncoder.Default;
        var body = new System.Text.StringBuilder();
        if (SignInErrors.Describe(error) is { } message)
        {
            body.Append($"<p class=\"error\" role=\"alert\">{html.Encode(message)}</p>");
        }

        if (signedInAs is not null)
        {
            body.Append($"<p>You are signed in as <strong>{html.Encode(signedInAs)}</strong>. Signing in again replaces that session.</p>");
        }

        foreach (var provider in providers.Remote)
        {
            var href = $"/signin/{provider.Scheme}?returnUrl={Uri.EscapeDataString(returnUrl)}";
            body.Append($"<p><a class=\"button\" href=\"{html.Encode(href)}\">Continue with {html.Encode(provider.DisplayName)}</a></p>");
        }

        if (providers.DevSignIn)
        {
            body.Append($"""
                <form method="post" action="/signin/dev" class="dev">
                <h2>Development sign-in</h2>
                <p class="warning">This is a development sign-in: it believes any user name, so anyone who can reach this address can act as anyone. It is meant for one developer's own machine.</p>
                <label for="user">User name</label>
                <input id="user" name="user" required maxlength="64" pattern="[A-Za-z0-9][A-Za-z0-9._@\-]*" autocomplete="username" autofocus>
                <input type="hidden" name="returnUrl" value="{html.Encode(returnUrl)}">
                <button type="submit">Sign in</button>
                </form>
                """);
        }

        if (providers.Remote.Count == 0 && !providers.DevSignIn)
        {
            body.Append("<p>No sign-in provider is configured. The operator sets one in the <code>Auth</code> settings (GitHub or OpenID Connect).</p>");
        }

        var page = $$"""
            <!doctype html>
            <html lang="en">
            <head>
            <meta charset="utf-8">
            <meta name="viewport" content="width=device-width, initial-scale=1">
            <title>Sign in · CloudDevEnv</title>
            <style>
            body { font-family: system-ui, sans-serif; max-width: 30rem; margin: 4rem auto; padding: 0 1rem; color: #222; }
            h1 { font-size: 1.4rem; } h2 { font-size: 1.1rem; }
            .button, button { display: inline-block; padding: .5rem 1rem; border: 1px solid #444; border-radius: .3rem; background: #f4f4f4; color: #222; text-decoration: none; font: inherit; cursor: pointer; }
            .dev { margin-top: 2rem; padding: 1rem; border: 2px dashed #c60; }
            .warning { color: #a40; } .error { color: #b00; }
            label, input { display: block; margin-bottom: .5rem; } input { padding: .4rem; font: inherit; width: 100%; box-sizing: border-box; }
            </style>
            </head>
            <body>
            <h1>Sign in to CloudDevEnv</h1>
            {{body}}
            </body>
            </html>
            """;
        return new HtmlPage(page, status);
    }
}
