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
            .ProducesProblem(StatusCodes.Status403Forbidden)
            .ProducesProblem(StatusCodes.Status413PayloadTooLarge)
            .ProducesProblem(StatusCodes.Status422UnprocessableEntity)
            .ProducesProblem(StatusCodes.Status429TooManyRequests)
            .WithSummary("Launch a workspace for a Git repository, owned by the signed-in user; an Idempotency-Key header makes a retry return the same workspace.");
        api.MapGet("/", ListAsync)
            .WithName("ListWorkspaces")
            .Produces<IReadOnlyList<WorkspaceResource>>()
            .WithSummary("My workspaces, oldest first; admins may ask for one owner's (?owner=) or everyone's (?all=true).")
            .WithDescription("Filters: `phase`, `repo` (the repository URL, exactly), `q` (a piece of the repository URL or the id). "
                             + "Pages of `limit` (1–100; without it, the whole list); when there is more, a `Link: <…>; rel=\"next\"` header gives the next page's URL.")
            .ProducesProblem(StatusCodes.Status400BadRequest)
            .ProducesProblem(StatusCodes.Status403Forbidden);
        api.MapGet("/{id}", GetAsync).WithName("GetWorkspace").WithSummary("Get one workspace; ?wait=<phase> waits for it.")
            .WithDescription("With `wait=<phase>` (and `timeout`, 1–120 s, default 60) the answer comes as soon as the workspace is in that phase, "
                             + "failed, or deleted, or when the time is up: read its `phase` to know which. The `ETag` answers `If-None-Match` with 304, "
                             + "and commands take it as `If-Match`.")
            .Produces<WorkspaceResource>()
            .Produces(StatusCodes.Status304NotModified)
            .ProducesProblem(StatusCodes.Status400BadRequest)
            .ProducesProblem(StatusCodes.Status404NotFound);
        api.MapPost("/{id}/start", (string id, HttpRequest request, ClaimsPrincipal user, IGrainFactory grains) => CommandAsync(id, request, user, grains, (g, actor) => g.StartAsync(actor)))
            .WithName("StartWorkspace")
            .WithSummary("Start a stopped workspace.").ProducesProblem(StatusCodes.Status412PreconditionFailed).ProducesProblem(StatusCodes.Status403Forbidden).ProducesProblem(StatusCodes.Status409Conflict);
        api.MapPost("/{id}/stop", (string id, HttpRequest request, ClaimsPrincipal user, IGrainFactory grains) => CommandAsync(id, request, user, grains, (g, actor) => g.StopAsync(actor)))
            .WithName("StopWorkspace")
            .WithSummary("Stop a workspace, keeping its files.").ProducesProblem(StatusCodes.Status412PreconditionFailed).ProducesProblem(StatusCodes.Status409Conflict);
        api.MapPost("/{id}/keepalive", (string id, HttpRequest request, ClaimsPrincipal user, IGrainFactory grains) => CommandAsync(id, request, user, grains, (g, actor) => g.KeepAliveAsync(actor)))
            .WithName("KeepWorkspaceAlive")
            .WithSummary("Count as activity now: postpones the running workspace's idle stop (for a user reading, not typing).")
            .ProducesProblem(StatusCodes.Status412PreconditionFailed).ProducesProblem(StatusCodes.Status404NotFound).ProducesProblem(StatusCodes.Status409Conflict);
        api.MapPost("/{id}/pin", (string id, HttpRequest request, ClaimsPrincipal user, IGrainFactory grains) => CommandAsync(id, request, user, grains, (g, actor) => g.PinAsync(true, actor)))
            .WithName("PinWorkspace")
            .WithSummary("Keep the workspace however long it stays stopped (no retention deletion).")
            .ProducesProblem(StatusCodes.Status412PreconditionFailed).ProducesProblem(StatusCodes.Status404NotFound).ProducesProblem(StatusCodes.Status409Conflict);
        api.MapDelete("/{id}/pin", (string id, HttpRequest request, ClaimsPrincipal user, IGrainFactory grains) => CommandAsync(id, request, user, grains, (g, actor) => g.PinAsync(false, actor)))
            .WithName("UnpinWorkspace")
            .WithSummary("Let retention delete the workspace once it has been stopped for Workspaces:StoppedRetention.")
            .ProducesProblem(StatusCodes.Status412PreconditionFailed).ProducesProblem(StatusCodes.Status404NotFound).ProducesProblem(StatusCodes.Status409Conflict);
        api.MapPatch("/{id}", UpdateAsync)
            .WithName("UpdateWorkspace")
            .WithSummary("Change a workspace's idle timeout or display name.")
            .Accepts<UpdateWorkspaceRequest>("application/json")
            .Produces<WorkspaceResource>()
            .ProducesProblem(StatusCodes.Status400BadRequest)
            .ProducesProblem(StatusCodes.Status404NotFound)
            .ProducesProblem(StatusCodes.Status409Conflict)
            .ProducesProblem(StatusCodes.Status412PreconditionFailed);
        api.MapDelete("/{id}", (string id, HttpRequest request, ClaimsPrincipal user, IGrainFactory grains) => CommandAsync(id, request, user, grains, (g, actor) => g.DeleteAsync(actor)))
            .WithName("DeleteWorkspace")
            .WithSummary("Delete a workspace and its files.").ProducesProblem(StatusCodes.Status412PreconditionFailed).ProducesProblem(StatusCodes.Status404NotFound);
        api.MapGet("/{id}/snapshots", ListSnapshotsAsync)
            .WithName("ListSnapshots")
            .WithSummary("The kept snapshots of the workspace's /workspaces folder, newest first.")
            .Produces<IReadOnlyList<SnapshotResource>>()
            .ProducesProblem(StatusCodes.Status404NotFound);
        api.MapPost("/{id}/snapshots", (string id, HttpRequest request, ClaimsPrincipal user, IGrainFactory grains) => CommandAsync(id, request, user, grains, (g, actor) => g.SnapshotAsync(actor)))
            .WithName("SnapshotWorkspace")
            .WithSummary("Snapshot the running workspace's /workspaces folder now; the events stream says when it is taken.")
            .ProducesProblem(StatusCodes.Status404NotFound).ProducesProblem(StatusCodes.Status409Conflict).ProducesProblem(StatusCodes.Status412PreconditionFailed);
        api.MapPost("/{id}/restore", RestoreAsync)
            .WithName("RestoreWorkspace")
            .WithSummary("Start a stopped workspace with its /workspaces folder replaced by one of its snapshots.")
            .Accepts<RestoreWorkspaceRequest>("application/json")
            .Produces<WorkspaceResource>(StatusCodes.Status202Accepted)
            .ProducesProblem(StatusCodes.Status400BadRequest).ProducesProblem(StatusCodes.Status403Forbidden).ProducesProblem(StatusCodes.Status404NotFound)
            .ProducesProblem(StatusCodes.Status409Conflict).ProducesProblem(StatusCodes.Status412PreconditionFailed);
        endpoints.MapGet("/api/machine-classes", (IOptions<ApiOptions> options) => TypedResults.Ok(options.Value.EffectiveMachineClasses
                .Select(c => new MachineClassResource(c.Key, c.Value.Cpus, c.Value.MemoryMiB * 1024 * 1024))
                .OrderBy(c => c.Cpus).ThenBy(c => c.MemoryBytes).ThenBy(c => c.Name, StringComparer.Ordinal)))
            .WithTags("Workspaces")
            .WithName("ListMachineClasses")
            .WithSummary("The machine sizes a launch may ask for by name (its `machine`).");
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

        ResourceLimits? resources = null;
        if (body.Machine is { } machine)
        {
            var classes = request.HttpContext.RequestServices.GetRequiredService<IOptions<ApiOptions>>().Value.EffectiveMachineClasses;
            if (!classes.TryGetValue(machine, out var size))
            {
                return ApiProblems.InvalidField("machine", $"machine must be one of {string.Join(", ", classes.Keys.Order(StringComparer.Ordinal))} (GET /api/machine-classes).");
            }

            resources = new ResourceLimits(size.Cpus, size.MemoryMiB * 1024 * 1024);
        }

        var spec = new WorkspaceSpec(
            body.RepoUrl,
            body.Ref,
            user.UserId(),
            body.Image,
            Resources: resources,
            IdleTimeout: body.IdleTimeoutMinutes is { } minutes ? TimeSpan.FromMinutes(minutes) : null,
            DisplayName: body.DisplayName,
            DevContainerPath: body.DevcontainerPath,
            Environment: body.Environment);

        var id = WorkspaceId.NewId();
        if (request.Headers.TryGetValue(IdempotencyKeyHeader, out var keys))
        {
            var key = keys.ToString();
            if (key.Length is 0 or > 255 || key.Any(c => c is < ' ' or > '~'))
            {
                return ApiProblems.InvalidField(IdempotencyKeyHeader, "Idempotency-Key must be 1 to 255 printable ASCII characters.");
            }

            // The secrets' values stay out of the stored fingerprint (their names are in it): a hash of a short secret
            // would let whoever reads the storage guess it.
            var fingerprint = body with { Secrets = body.Secrets?.ToDictionary(kv => kv.Key, _ => string.Empty) };
            var hash = Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(
                JsonSerializer.SerializeToUtf8Bytes(fingerprint, json.Value.SerializerOptions)));
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
            status = await grains.GetGrain<IWorkspaceGrain>(id).CreateAsync(spec, body.Secrets);
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

    private static async Task<IResult> ListAsync(
        string? owner, bool? all, int? limit, string? cursor, string? phase, string? repo, string? q, HttpRequest request, ClaimsPrincipal user, IGrainFactory grains)
    {
        var (query, invalid) = WorkspaceListQuery.Parse(limit, cursor, phase, repo, q);
        if (invalid is not null)
        {
            return invalid;
        }

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
        var (page, next) = query!.Apply(statuses.OfType<WorkspaceStatus>());
        if (next is not null)
        {
            var parameters = request.Query.Where(p => p.Key != "cursor").ToDictionary(p => p.Key, p => p.Value);
            parameters["cursor"] = next;
            request.HttpContext.Response.Headers.Link = $"<{request.PathBase}{request.Path}{QueryString.Create(parameters)}>; rel=\"next\"";
        }

        return TypedResults.Ok(page.Select(s => WorkspaceResource.From(s, eventCount: 0)));
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

    /// <summary>How often a waiting GET looks at the workspace again.</summary>
    private static readonly TimeSpan WaitPoll = TimeSpan.FromMilliseconds(200);

    private static async Task<IResult> GetAsync(
        string id, string? wait, int? timeout, HttpContext context, ClaimsPrincipal user, IGrainFactory grains,
        IOptions<Microsoft.AspNetCore.Http.Json.JsonOptions> json, CancellationToken cancellationToken)
    {
        WorkspacePhase? until = null;
        if (!string.IsNullOrEmpty(wait))
        {
            if (!Enum.TryParse<WorkspacePhase>(wait, ignoreCase: true, out var phase) || !Enum.IsDefined(phase) || int.TryParse(wait, out _))
            {
                return ApiProblems.InvalidField("wait", $"wait must be one of {string.Join(", ", Enum.GetNames<WorkspacePhase>())}.");
            }

            until = phase;
        }

        if (timeout is < 1 or > 120)
        {
            return ApiProblems.InvalidField("timeout", "timeout must be between 1 and 120 seconds.");
        }

        var status = await WorkspaceAccess.FindAsync(grains, id, user);
        if (until is { } target)
        {
            // A long poll: the grain is asked again every WaitPoll until the phase comes, the workspace fails or goes,
            // or the time is up. Cheap for the grain (its status is in memory) and simple for any client.
            var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(timeout ?? 60);
            while (status is not null && status.Phase != target && status.Phase is not (WorkspacePhase.Failed or WorkspacePhase.Deleted)
                   && DateTime.UtcNow < deadline && !cancellationToken.IsCancellationRequested)
            {
                await Task.Delay(WaitPoll, CancellationToken.None);
                status = await WorkspaceAccess.FindAsync(grains, id, user);
            }
        }

        if (status is null)
        {
            return ApiProblems.NotFound(id);
        }

        var resource = WorkspaceResource.From(status, forAdmin: user.IsAdmin());
        var etag = WorkspaceETag.Of(resource, json.Value.SerializerOptions);
        context.Response.Headers.ETag = etag;
        return WorkspaceETag.Listed(context.Request.Headers.IfNoneMatch, etag)
            ? Results.StatusCode(StatusCodes.Status304NotModified)
            : TypedResults.Ok(resource);
    }

    private static async Task<IResult> UpdateAsync(
        string id, HttpRequest request, ClaimsPrincipal user, IGrainFactory grains, IOptions<Microsoft.AspNetCore.Http.Json.JsonOptions> json, CancellationToken cancellationToken)
    {
        var (body, problem) = await RequestBody.ReadAsync<UpdateWorkspaceRequest>(request, ApiJson.Strict(json.Value.SerializerOptions), cancellationToken);
        if (problem is not null)
        {
            return problem;
        }

        var change = new WorkspaceChange(body!.IdleTimeoutMinutes is { } minutes ? TimeSpan.FromMinutes(minutes) : null, body.DisplayName);
        var result = await CommandAsync(id, request, user, grains, (g, actor) => g.UpdateAsync(change, actor));
        return result.Result is Accepted<WorkspaceResource> { Value: { } updated } ? TypedResults.Ok(updated) : result.Result;
    }

    private static async Task<IResult> ListSnapshotsAsync(string id, ClaimsPrincipal user, IGrainFactory grains)
    {
        if (await WorkspaceAccess.FindAsync(grains, id, user) is null)
        {
            return ApiProblems.NotFound(id);
        }

        var kept = await grains.GetGrain<IWorkspaceGrain>(id).ListSnapshotsAsync();
        return TypedResults.Ok(kept.Select(s => new SnapshotResource(s.Id, s.TakenAt, s.SizeBytes)));
    }

    private static async Task<IResult> RestoreAsync(
        string id, HttpRequest request, ClaimsPrincipal user, IGrainFactory grains, IOptions<Microsoft.AspNetCore.Http.Json.JsonOptions> json, CancellationToken cancellationToken)
    {
        var (body, problem) = await RequestBody.ReadAsync<RestoreWorkspaceRequest>(request, ApiJson.Strict(json.Value.SerializerOptions), cancellationToken);
        if (problem is not null)
        {
            return problem;
        }

        if (string.IsNullOrWhiteSpace(body!.SnapshotId))
        {
            return ApiProblems.InvalidField("snapshotId", "snapshotId is required: one of the ids GET …/snapshots lists.");
        }

        return (await CommandAsync(id, request, user, grains, (g, actor) => g.RestoreAsync(body.SnapshotId, actor))).Result;
    }

    private static async Task<Results<Accepted<WorkspaceResource>, ProblemHttpResult>> CommandAsync(
        string id, HttpRequest request, ClaimsPrincipal user, IGrainFactory grains, Func<IWorkspaceGrain, string, Task<WorkspaceStatus>> command)
    {
        if (await WorkspaceAccess.FindAsync(grains, id, user) is not { } current)
        {
            return ApiProblems.NotFound(id);
        }

        // Optimistic concurrency for scripts: the command applies only to the workspace as the caller last read it.
        // (The check and the command are two calls: a change between them is not caught; the grain's own rules still hold.)
        if (request.Headers.IfMatch.Count > 0)
        {
            var options = request.HttpContext.RequestServices.GetRequiredService<IOptions<Microsoft.AspNetCore.Http.Json.JsonOptions>>().Value.SerializerOptions;
            if (!WorkspaceETag.Listed(request.Headers.IfMatch, WorkspaceETag.Of(WorkspaceResource.From(current, forAdmin: user.IsAdmin()), options)))
            {
                return ApiProblems.Problem(
                    StatusCodes.Status412PreconditionFailed,
                    "The workspace changed since you read it.",
                    "If-Match does not name the workspace's current ETag; read it again (GET) and decide with what you see.",
                    "precondition-failed");
            }
        }

        var status = await command(grains.GetGrain<IWorkspaceGrain>(id), user.UserId());
        return TypedResults.Accepted($"/api/workspaces/{id}", WorkspaceResource.From(status));
    }
}
