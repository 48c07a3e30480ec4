namespace CloudDevEnv.Api.Pages;

/// <summary>303 See Other: after a form post or a sign-in step the browser follows with a GET, whatever the method was.</summary>
internal sealed class SeeOther(string location) : IResult
{
    public Task ExecuteAsync(HttpContext context)
    {
        context.Response.StatusCode = StatusCodes.Status303SeeOther;
        context.Response.Headers.Location = location;
        context.Response.Headers.CacheControl = "no-store";
        return Task.CompletedTask;
    }
}
