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
            _ when IsStorageFailure(exception) => ApiProblems.Problem(
                StatusCodes.Status503ServiceUnavailable, "The platform could not store the change.", "Nothing was changed; try again later.", "storage-unavailable"),
            TimeoutException or OrleansException => ApiProblems.Problem(
                StatusCodes.Status503ServiceUnavailable, "The platform is busy.", "The workspace service did not answer in time; try again.", "unavailable"),
            _ => ApiProblems.Problem(StatusCodes.Status500InternalServerError, "Internal error.", "An unexpected error occurred; it has been logged.", "internal"),
        };

        if (exception is not (WorkspaceRejectedException or BadHttpRequestException))
        {
            LogUnhandled(exception, context.Request.Method, context.Request.Path);
        }

        if (result is Microsoft.AspNetCore.Http.HttpResults.ProblemHttpResult { StatusCode: StatusCodes.Status503ServiceUnavailable })
        {
            // Nothing was changed and the platform expects to answer again soon (a silo failing over, the database back).
            context.Response.Headers.RetryAfter = "1";
        }

        await result.ExecuteAsync(context);
        return true;
    }

    /// <summary>The grain storage refused or could not be reached: a full disk in local mode, the database away in
    /// cluster mode (the driver's exception, however deep Orleans wrapped it).</summary>
    private static bool IsStorageFailure(Exception exception)
    {
        for (var e = exception; e is not null; e = e.InnerException)
        {
            if (e is IOException or System.Data.Common.DbException)
            {
                return true;
            }
        }

        return false;
    }

    [LoggerMessage(Level = LogLevel.Error, Message = "{Method} {Path} failed")]
    private partial void LogUnhandled(Exception exception, string method, string path);
}
