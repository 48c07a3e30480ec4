using System.Globalization;
using System.Text.Encodings.Web;
using Microsoft.AspNetCore.Http;
using Microsoft.Net.Http.Headers;

namespace CloudDevEnv.Access.Pages;

/// <summary>Writes <see cref="ProxyPage"/>s as small self-contained HTML documents (no scripts, no external
/// resources). Every value is HTML-encoded; nothing from an exception is ever shown.</summary>
public static class ProxyPageWriter
{
    public static Task WriteAsync(HttpContext context, ProxyPage page)
    {
        var response = context.Response;
        if (response.HasStarted)
        {
            return Task.CompletedTask;
        }

        response.Clear();
        response.StatusCode = page.StatusCode;
        response.ContentType = "text/html; charset=utf-8";
        response.Headers.CacheControl = "no-store";
        response.Headers.XContentTypeOptions = "nosniff";
        response.Headers.ContentSecurityPolicy = "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'";
        response.Headers["Referrer-Policy"] = "no-referrer";
        if (page.RefreshSeconds is { } refresh)
        {
            response.Headers.RetryAfter = refresh.ToString(CultureInfo.InvariantCulture);
        }

        if (HttpMethods.IsHead(context.Request.Method))
        {
            return Task.CompletedTask;
        }

        return response.WriteAsync(Render(page), context.RequestAborted);
    }

    public static string Render(ProxyPage page)
    {
        var html = HtmlEncoder.Default;
        var refresh = page.RefreshSeconds is { } seconds
            ? $"<meta http-equiv=\"refresh\" content=\"{seconds.ToString(CultureInfo.InvariantCulture)}\">"
            : string.Empty;
        var link = page.Link is { } l ? $"<p><a href=\"{html.Encode(l.Url)}\">{html.Encode(l.Text)}</a></p>" : string.Empty;
        return $"""
            <!doctype html>
            <html lang="en">
            <head>
            <meta charset="utf-8">
            <meta name="viewport" content="width=device-width, initial-scale=1">
            {refresh}
            <title>{html.Encode(page.Title)}</title>
            <style>
            body {"{"} font-family: system-ui, sans-serif; max-width: 40rem; margin: 4rem auto; padding: 0 1rem; color: #222; {"}"}
            h1 {"{"} font-size: 1.4rem; {"}"}
            p {"{"} line-height: 1.5; {"}"}
            .status {"{"} color: #777; font-size: .9rem; {"}"}
            </style>
            </head>
            <body>
            <h1>{html.Encode(page.Title)}</h1>
            <p>{html.Encode(page.Message)}</p>
            {link}
            <p class="status">{page.StatusCode.ToString(CultureInfo.InvariantCulture)} · CloudDevEnv</p>
            </body>
            </html>
            """;
    }
}
