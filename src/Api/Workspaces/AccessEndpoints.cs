using CloudDevEnv.Api.Problems;
using CloudDevEnv.Proxy.Access;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Options;

namespace CloudDevEnv.Api.Workspaces;

/// <summary>How a user gets into a workspace: a one-time sign-in link, and which ports anyone may reach.</summary>
public static class AccessEndpoints
{
    public sealed record OpenResponse(Uri Url);

    public sealed record PortVisibilityRequest(string? Visibility);

    public sealed record PortsResponse(string Id, IReadOnlyList<int> PublicPorts);

    public static IEndpointRouteBuilder MapAccessEndpoints(this IEndpointRouteBuilder endpoints)
    {
        var api = endpoints.MapGroup("/api/workspaces/{id}").WithTags("Access");

        // Until sign-in exists the owner is whoever the workspace names; the proxy checks the link's owner
        // against the grain on every request.
        api.MapPost("/open", OpenAsync)
            .WithSummary("A short-lived, single-use sign-in URL for the workspace's IDE.")
            .ProducesProblem(StatusCodes.Status404NotFound)
            .ProducesProblem(StatusCodes.Status409Conflict);
        api.MapPut("/ports/{port:int}", SetPortAsync)
            .Accepts<PortVisibilityRequest>("application/json")
            .WithSummary("Make a port public (anyone with the URL) or private (the owner only, the default).")
            .ProducesProblem(StatusCodes.Status400BadRequest);
        return endpoints;
    }

    private static async Task<Results<Ok<OpenResponse>, ProblemHttpResult>> OpenAsync(string id, IGrainFactory grains, IWorkspaceAccessTokens tokens)
    {
        if (!WorkspaceId.IsValid(id))
        {
            return ApiProblems.NotFound(id);
        }

        var status = await grains.GetGrain<IWorkspaceGrain>(id).GetStatusAsync();
        if (status.Desired == DesiredState.Deleted || status.Phase is WorkspacePhase.Deleting or WorkspacePhase.Deleted)
        {
            return ApiProblems.Problem(StatusCodes.Status409Conflict, "The workspace cannot do that now.", $"Workspace '{id}' is deleted.", "workspace-conflict");
        }

        return TypedResults.Ok(new OpenResponse(tokens.CreateSignInUrl(id, status.Spec.Owner)));
    }

    private static async Task<IResult> SetPortAsync(
        string id, int port, HttpRequest request, IGrainFactory grains, IOptions<Microsoft.AspNetCore.Http.Json.JsonOptions> json, CancellationToken cancellationToken)
    {
        if (!WorkspaceId.IsValid(id))
        {
            return ApiProblems.NotFound(id);
        }

        var (body, problem) = await RequestBody.ReadAsync<PortVisibilityRequest>(request, ApiJson.Strict(json.Value.SerializerOptions), cancellationToken);
        if (problem is not null)
        {
            return problem;
        }

        bool isPublic;
        switch (body!.Visibility)
        {
            case "public":
                isPublic = true;
                break;
            case "private":
                isPublic = false;
                break;
            default:
                return ApiProblems.InvalidField("visibility", "visibility must be \"public\" or \"private\".");
        }

        var route = await grains.GetGrain<IWorkspaceGrain>(id).SetPortVisibilityAsync(port, isPublic);
        return TypedResults.Ok(new PortsResponse(id, [.. route.PublicPorts.Order()]));
    }
}
