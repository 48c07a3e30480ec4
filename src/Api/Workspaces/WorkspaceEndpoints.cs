using System.Text.Json;
using CloudDevEnv.Api.Problems;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Options;

namespace CloudDevEnv.Api.Workspaces;

public static class WorkspaceEndpoints
{
    public static IEndpointRouteBuilder MapWorkspaceApi(this IEndpointRouteBuilder endpoints)
    {
        var api = endpoints.MapGroup("/api/workspaces").WithTags("Workspaces");

        api.MapPost("/", CreateAsync)
            .Accepts<CreateWorkspaceRequest>("application/json")
            .Produces<WorkspaceResource>(StatusCodes.Status201Created)
            .ProducesProblem(StatusCodes.Status400BadRequest)
            .ProducesProblem(StatusCodes.Status413PayloadTooLarge)
            .ProducesProblem(StatusCodes.Status429TooManyRequests)
            .WithSummary("Launch a workspace for a Git repository.");
        api.MapGet("/", ListAsync).WithSummary("List an owner's workspaces.").ProducesProblem(StatusCodes.Status400BadRequest);
        api.MapGet("/{id}", GetAsync).WithSummary("Get one workspace.").ProducesProblem(StatusCodes.Status404NotFound);
        api.MapPost("/{id}/start", (string id, IGrainFactory grains) => CommandAsync(id, grains, g => g.StartAsync()))
            .WithSummary("Start a stopped workspace.").ProducesProblem(StatusCodes.Status409Conflict).ProducesProblem(StatusCodes.Status429TooManyRequests);
        api.MapPost("/{id}/stop", (string id, IGrainFactory grains) => CommandAsync(id, grains, g => g.StopAsync()))
            .WithSummary("Stop a workspace, keeping its files.").ProducesProblem(StatusCodes.Status409Conflict);
        api.MapDelete("/{id}", (string id, IGrainFactory grains) => CommandAsync(id, grains, g => g.DeleteAsync()))
            .WithSummary("Delete a workspace and its files.").ProducesProblem(StatusCodes.Status404NotFound);
        api.MapGet("/{id}/events", WorkspaceEventStream.StreamAsync)
            .WithSummary("Server-Sent Events of the workspace's phase changes and log lines; ends when it is deleted.")
            .Produces(StatusCodes.Status200OK, contentType: "text/event-stream");
        return endpoints;
    }

    private static async Task<IResult> CreateAsync(HttpRequest request, IGrainFactory grains, IOptions<Microsoft.AspNetCore.Http.Json.JsonOptions> json, CancellationToken cancellationToken)
    {
        var (body, problem) = await RequestBody.ReadAsync<CreateWorkspaceRequest>(request, ApiJson.Strict(json.Value.SerializerOptions), cancellationToken);
        if (problem is not null)
        {
            return problem;
        }

        if (string.IsNullOrWhiteSpace(body!.RepoUrl))
        {
            return ApiProblems.InvalidField("repoUrl", "repoUrl is required.");
        }

        if (string.IsNullOrWhiteSpace(body.Owner))
        {
            return ApiProblems.InvalidField("owner", "owner is required.");
        }

        var spec = new WorkspaceSpec(
            body.RepoUrl,
            body.Ref,
            body.Owner,
            body.Image,
            Resources: null,
            IdleTimeout: body.IdleTimeoutMinutes is { } minutes ? TimeSpan.FromMinutes(minutes) : null);
        var id = WorkspaceId.NewId();
        var status = await grains.GetGrain<IWorkspaceGrain>(id).CreateAsync(spec);
        return TypedResults.Created($"/api/workspaces/{id}", WorkspaceResource.From(status));
    }

    private static async Task<IResult> ListAsync(string? owner, IGrainFactory grains)
    {
        if (string.IsNullOrEmpty(owner))
        {
            return ApiProblems.InvalidField("owner", "Name the owner whose workspaces to list: ?owner=<name>.");
        }

        if (!OwnerName.IsValid(owner))
        {
            return ApiProblems.InvalidField("owner", "owner is not a valid user name.");
        }

        var ids = await grains.GetGrain<IOwnerGrain>(owner).ListAsync();
        var statuses = await Task.WhenAll(ids.Select(id => grains.GetGrain<IWorkspaceGrain>(id).GetStatusAsync()));
        return TypedResults.Ok(statuses.Select(s => WorkspaceResource.From(s, eventCount: 0)));
    }

    private static async Task<Results<Ok<WorkspaceResource>, ProblemHttpResult>> GetAsync(string id, IGrainFactory grains)
    {
        if (!WorkspaceId.IsValid(id))
        {
            return ApiProblems.NotFound(id);
        }

        return TypedResults.Ok(WorkspaceResource.From(await grains.GetGrain<IWorkspaceGrain>(id).GetStatusAsync()));
    }

    private static async Task<Results<Accepted<WorkspaceResource>, ProblemHttpResult>> CommandAsync(
        string id, IGrainFactory grains, Func<IWorkspaceGrain, Task<WorkspaceStatus>> command)
    {
        if (!WorkspaceId.IsValid(id))
        {
            return ApiProblems.NotFound(id);
        }

        var status = await command(grains.GetGrain<IWorkspaceGrain>(id));
        return TypedResults.Accepted($"/api/workspaces/{id}", WorkspaceResource.From(status));
    }
}
