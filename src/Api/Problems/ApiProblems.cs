using Microsoft.AspNetCore.Http.HttpResults;

namespace CloudDevEnv.Api.Problems;

/// <summary>RFC 9457 problem details for every error the API returns: one place decides their shape.</summary>
public static class ApiProblems
{
    public static ProblemHttpResult InvalidField(string field, string detail) => TypedResults.Problem(
        detail: detail,
        statusCode: StatusCodes.Status400BadRequest,
        title: "The request is not valid.",
        type: "https://clouddevenv.dev/problems/invalid-request",
        extensions: new Dictionary<string, object?>
        {
            ["field"] = field,
            ["errors"] = new Dictionary<string, string[]> { [field] = [detail] },
        });

    public static ProblemHttpResult From(WorkspaceRejectedException rejection) => rejection.Kind switch
    {
        WorkspaceRejection.Invalid => InvalidField(rejection.Field ?? "body", rejection.Message),
        WorkspaceRejection.NotFound => Problem(StatusCodes.Status404NotFound, "No such workspace.", rejection.Message, "workspace-not-found"),
        WorkspaceRejection.Conflict => Problem(StatusCodes.Status409Conflict, "The workspace cannot do that now.", rejection.Message, "workspace-conflict"),
        // Not a rate limit: waiting does not help, so no client may retry it (a 429 invites a retry).
        WorkspaceRejection.QuotaExceeded => Problem(StatusCodes.Status403Forbidden, "Too many running workspaces.", rejection.Message, "quota-exceeded"),
        _ => Problem(StatusCodes.Status500InternalServerError, "Unexpected rejection.", rejection.Message, "internal"),
    };

    public static ProblemHttpResult NotFound(string id) =>
        Problem(StatusCodes.Status404NotFound, "No such workspace.", $"No workspace has the id '{id}'.", "workspace-not-found");

    public static ProblemHttpResult Unauthenticated(string detail) =>
        Problem(StatusCodes.Status401Unauthorized, "Not signed in.", detail, "unauthenticated");

    public static ProblemHttpResult Forbidden(string detail) =>
        Problem(StatusCodes.Status403Forbidden, "Not allowed.", detail, "forbidden");

    public static ProblemHttpResult Problem(int status, string title, string detail, string type) =>
        TypedResults.Problem(detail: detail, statusCode: status, title: title, type: "https://clouddevenv.dev/problems/" + type);
}
