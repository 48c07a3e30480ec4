using Microsoft.AspNetCore.Diagnostics;

namespace CloudDevEnv.Api.Problems;

/// <summary>Turns what a grain refused into its problem, and anything else into a 500 or 503 problem
/// without the exception's text: a stack trace never reaches a client.</summary>
public sealed partial class ApiExceptionHandler(ILogger<ApiExceptionHandler> logger) : IExceptionHandler
{
    public async ValueTask<bool> TryHandleAsync(HttpContext context, Exception exception, CancellationToken cancellationToken)
    {
        IResult result = exception switch
        {
            WorkspaceRejectedException rejected => ApiProblems.From(rejected),
            BadHttpRequestException bad => ApiProblems.Problem(bad.StatusCode, "Bad request.", bad.Message, "bad-request"),
            // Storage refused the write (a full disk, say; Orleans wraps the provider's error): the grain undid the
            // change, so the workspace is as it was.
            IOException or OrleansException { InnerException: IOException } => ApiProblems.Problem(
                StatusCodes.Status503ServiceUnavailable, "The platform could not store the change.", "Nothing was changed; try again later.", "storage-unavailable"),
            TimeoutException or OrleansException => ApiProblems.Problem(
                StatusCodes.Status503ServiceUnavailable, "The platform is busy.", "The workspace service did not answer in time; try again.", "unavailable"),
            _ => ApiProblems.Problem(StatusCodes.Status500InternalServerError, "Internal error.", "An unexpected error occurred; it has been logged.", "internal"),
        };

        if (exception is not (WorkspaceRejectedException or BadHttpRequestException))
        {
            LogUnhandled(exception, context.Request.Method, context.Request.Path);
        }

        await result.ExecuteAsync(context);
        return true;
    }

    [LoggerMessage(Level = LogLevel.Error, Message = "{Method} {Path} failed")]
    private partial void LogUnhandled(Exception exception, string method, string path);
}
