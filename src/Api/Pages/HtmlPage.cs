namespace CloudDevEnv.Api.Pages;

/// <summary>An HTML answer with the headers every page of the API host carries: not cached, not framed, no scripts,
/// forms posting only to this origin.</summary>
internal sealed class HtmlPage(string html, int status) : IResult
{
    public Task ExecuteAsync(HttpContext context)
    {
        var response = context.Response;
        response.StatusCode = status;
        response.ContentType = "text/html; charset=utf-8";
        response.Headers.CacheControl = "no-store";
        response.Headers.XContentTypeOptions = "nosniff";
        response.Headers.ContentSecurityPolicy = "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'";
        response.Headers["Referrer-Policy"] = "same-origin";
        return response.WriteAsync(html, context.RequestAborted);
    }
}
