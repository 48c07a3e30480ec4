using System.Security.Claims;
using System.Text.Json;
using CloudDevEnv.Api.Identity;
using CloudDevEnv.Api.Problems;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Options;

namespace CloudDevEnv.Api.Workspaces;

public static class WorkspaceEndpoints
{
    /// <summary>The rate-limiter policy on launches, per user.</summary>
    public const string CreateRateLimit = "workspace-create";

    public static IEndpointRouteBuilder MapWorkspaceApi(this IEndpointRouteBuilder endpoints)
    {
        var api = endpoints.MapGroup("/api/workspaces").WithTags("Workspaces");

        api.MapPost("/", CreateAsync)
            .WithName("CreateWorkspace")
            .RequireRateLimiting(CreateRateLimit)
            .Accepts<CreateWorkspaceRequest>("application/json")
            .Produces<WorkspaceResource>(StatusCodes.Status201Created)
            .ProducesProblem(StatusCodes.Status400BadRequest)
            .ProducesProblem(StatusCodes.Status413PayloadTooLarge)
            .ProducesProblem(StatusCodes.Status422UnprocessableEntity)
            .ProducesProblem(StatusCodes.Status429TooManyRequests)
            .WithSummary("Launch a workspace for a Git repository, owned by the signed-in user; an Idempotency-Key header makes a retry return the same workspace.");
        api.MapGet("/", ListAsync)
            .WithName("ListWorkspaces")
            .Produces<IReadOnlyList<WorkspaceResource>>()
            .WithSummary("My workspaces; admins may ask for one owner's (?owner=) or everyone's (?all=true).")
            .ProducesProblem(StatusCodes.Status400BadRequest)
            .ProducesProblem(StatusCodes.Status403Forbidden);
        api.MapGet("/{id}", GetAsync).WithName("GetWorkspace").WithSummary("Get one workspace.").ProducesProblem(StatusCodes.Status404NotFound);
        api.MapPost("/{id}/start", (string id, ClaimsPrincipal user, IGrainFactory grains) => CommandAsync(id, user, grains, (g, actor) => g.StartAsync(actor)))
            .WithName("StartWorkspace")
            .WithSummary("Start a stopped workspace.").ProducesProblem(StatusCodes.Status409Conflict).ProducesProblem(StatusCodes.Status429TooManyRequests);
        api.MapPost("/{id}/stop", (string id, ClaimsPrincipal user, IGrainFactory grains) => CommandAsync(id, user, grains, (g, actor) => g.StopAsync(actor)))
            .WithName("StopWorkspace")
            .WithSummary("Stop a workspace, keeping its files.").ProducesProblem(StatusCodes.Status409Conflict);
        api.MapDelete("/{id}", (string id, ClaimsPrincipal user, IGrainFactory grains) => CommandAsync(id, user, grains, (g, actor) => g.DeleteAsync(actor)))
            .WithName("DeleteWorkspace")
            .WithSummary("Delete a workspace and its files.").ProducesProblem(StatusCodes.Status404NotFound);
        api.MapGet("/{id}/events", WorkspaceEventStream.StreamAsync)
            .WithName("StreamWorkspaceEvents")
            .WithSummary("Server-Sent Events of the workspace's phase changes and log lines; ends when it is deleted.")
            .WithDescription("Each event's `data` is one event object (the schema below), its `event` the kind in lower case, its `id` the "
                             + "sequence number; a reconnecting client sends `Last-Event-ID` and gets only what it missed.")
            .Produces<WorkspaceEventResource>(StatusCodes.Status200OK, "text/event-stream")
            .ProducesProblem(StatusCodes.Status404NotFound);
        return endpoints;
    }

    private static async Task<IResult> CreateAsync(
        HttpRequest request, ClaimsPrincipal user, IGrainFactory grains, IOptions<Microsoft.AspNetCore.Http.Json.JsonOptions> json, CancellationToken cancellationToken)
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

        var spec = new WorkspaceSpec(
            body.RepoUrl,
            body.Ref,
            user.UserId(),
            body.Image,
            Resources: null,
            IdleTimeout: body.IdleTimeoutMinutes is { } minutes ? TimeSpan.FromMinutes(minutes) : null);

        var id = WorkspaceId.NewId();
        if (request.Headers.TryGetValue(IdempotencyKeyHeader, out var keys))
        {
            var key = keys.ToString();
            if (key.Length is 0 or > 255 || key.Any(c => c is < ' ' or > '~'))
            {
                return ApiProblems.InvalidField(IdempotencyKeyHeader, "Idempotency-Key must be 1 to 255 printable ASCII characters.");
            }

            var hash = Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(
                JsonSerializer.SerializeToUtf8Bytes(body, json.Value.SerializerOptions)));
            var claim = await grains.GetGrain<IIdempotencyGrain>(IIdempotencyGrain.KeyOf(user.UserId(), key)).ClaimAsync(hash, id);
            if (!claim.SameRequest)
            {
                return ApiProblems.Problem(
                    StatusCodes.Status422UnprocessableEntity,
                    "Idempotency-Key reused.",
                    "This Idempotency-Key was first used with another request body; use a new key for a new request.",
                    "idempotency-key-reused");
            }

            id = claim.WorkspaceId;
            if (claim.Replayed && await WorkspaceAccess.FindAsync(grains, id, user) is { } existing)
            {
                // The retry of a create whose answer was lost: the same workspace, not a second one.
                request.HttpContext.Response.Headers["Idempotent-Replayed"] = "true";
                return TypedResults.Created($"/api/workspaces/{id}", WorkspaceResource.From(existing));
            }
        }

        WorkspaceStatus? status = null;
        try
        {
            status = await grains.GetGrain<IWorkspaceGrain>(id).CreateAsync(spec);
        }
        catch (WorkspaceRejectedException e) when (e.Kind == WorkspaceRejection.Conflict)
        {
            // Two retries with one key raced, and the other made it (a fresh id is never taken).
            request.HttpContext.Response.Headers["Idempotent-Replayed"] = "true";
        }

        status ??= await WorkspaceAccess.FindAsync(grains, id, user)
            ?? throw new WorkspaceRejectedException(WorkspaceRejection.Conflict, $"A workspace with the id '{id}' exists already.");
        return TypedResults.Created($"/api/workspaces/{id}", WorkspaceResource.From(status));
    }

    /// <summary>As Stripe's and GitHub's APIs take it: a create retried with the same key and body returns the same
    /// workspace for 24 h.</summary>
    public const string IdempotencyKeyHeader = "Idempotency-Key";

    private static async Task<IResult> ListAsync(string? owner, bool? all, ClaimsPrincipal user, IGrainFactory grains)
    {
        IEnumerable<string> owners;
        if (all == true)
        {
            if (!user.IsAdmin())
            {
                return ApiProblems.Forbidden("Listing everyone's workspaces needs the admin role.");
            }

            owners = await grains.GetGrain<IOwnerDirectoryGrain>(IOwnerDirectoryGrain.Key).ListAsync();
        }
        else if (!string.IsNullOrEmpty(owner) && owner != user.UserId())
        {
            if (!OwnerName.IsValid(owner))
            {
                return ApiProblems.InvalidField("owner", "owner is not a valid user id.");
            }

            if (!user.IsAdmin())
            {
                return ApiProblems.Forbidden("Listing another user's workspaces needs the admin role.");
            }

            owners = [owner];
        }
        else
        {
            owners = [user.UserId()];
        }

        var listed = await Task.WhenAll(owners.Select(async o => (Owner: o, Ids: await grains.GetGrain<IOwnerGrain>(o).ListAsync())));
        var statuses = await Task.WhenAll(listed.SelectMany(l => l.Ids.Select(id => StatusOrRepairAsync(grains, l.Owner, id))));
        return TypedResults.Ok(statuses.OfType<WorkspaceStatus>().Select(s => WorkspaceResource.From(s, eventCount: 0)));
    }

    /// <summary>An id left in an owner's index without a workspace behind it (a crash between the two writes) is left
    /// out of the listing and out of the index, rather than failing the listing.</summary>
    private static async Task<WorkspaceStatus?> StatusOrRepairAsync(IGrainFactory grains, string owner, string id)
    {
        try
        {
            return await grains.GetGrain<IWorkspaceGrain>(id).GetStatusAsync();
        }
        catch (WorkspaceRejectedException e) when (e.Kind == WorkspaceRejection.NotFound)
        {
            await grains.GetGrain<IOwnerGrain>(owner).RemoveAsync(id);
            return null;
        }
    }

    private static async Task<Results<Ok<WorkspaceResource>, ProblemHttpResult>> GetAsync(string id, ClaimsPrincipal user, IGrainFactory grains) =>
        await WorkspaceAccess.FindAsync(grains, id, user) is { } status
            ? TypedResults.Ok(WorkspaceResource.From(status))
            : ApiProblems.NotFound(id);

    private static async Task<Results<Accepted<WorkspaceResource>, ProblemHttpResult>> CommandAsync(
        string id, ClaimsPrincipal user, IGrainFactory grains, Func<IWorkspaceGrain, string, Task<WorkspaceStatus>> command)
    {
        if (await WorkspaceAccess.FindAsync(grains, id, user) is null)
        {
            return ApiProblems.NotFound(id);
        }

        var status = await command(grains.GetGrain<IWorkspaceGrain>(id), user.UserId());
        return TypedResults.Accepted($"/api/workspaces/{id}", WorkspaceResource.From(status));
    }
}
