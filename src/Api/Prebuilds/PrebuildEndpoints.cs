using System.Security.Claims;
using CloudDevEnv.Api.Identity;
using CloudDevEnv.Api.Problems;
using CloudDevEnv.Api.Workspaces;
using CloudDevEnv.Contracts.Prebuilds;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Options;

namespace CloudDevEnv.Api.Prebuilds;

/// <summary>Prebuilt images for repositories: registered by CI (a prebuild workflow with an API token) or an operator,
/// used by every launch of that repository and ref. Registering decides what other users will run, so it takes the
/// admin role or a place in <c>Api:PrebuildPublishers</c>; reading is anyone's.</summary>
public static class PrebuildEndpoints
{
    /// <param name="Ref">The branch or tag it was built from; without it, the default branch.</param>
    /// <param name="ConfigHash">SHA-256 (hex) of the devcontainer.json it was built from; a launch whose file differs does not use it.</param>
    public sealed record RegisterPrebuildRequest(string? RepoUrl, string? Ref = null, string? Image = null, string? ConfigHash = null);

    public sealed record PrebuildResource(string RepoUrl, string? Ref, string Image, string? ConfigHash, DateTimeOffset RegisteredAt, string RegisteredBy)
    {
        public static PrebuildResource From(PrebuildRegistration r) => new(r.RepoUrl, r.Ref, r.Image, r.ConfigHash, r.RegisteredAt, r.RegisteredBy);
    }

    /// <param name="Ref">The branch or tag to build; without it, the default branch.</param>
    public sealed record BuildPrebuildRequest(string? RepoUrl, string? Ref = null);

    /// <param name="Image">Once it succeeded: the pushed image by digest, as registered.</param>
    /// <param name="Reason">Once it failed: why.</param>
    public sealed record PrebuildBuildResource(
        string RepoUrl, string? Ref, PrebuildBuildPhase Phase, string RequestedBy, DateTimeOffset StartedAt, DateTimeOffset? FinishedAt,
        string? Image, string? Reason, IReadOnlyList<string> Events)
    {
        public static PrebuildBuildResource From(PrebuildBuildStatus s) => new(s.RepoUrl, s.Ref, s.Phase, s.RequestedBy, s.StartedAt, s.FinishedAt, s.Image, s.Reason, s.Events);
    }

    public static IEndpointRouteBuilder MapPrebuildEndpoints(this IEndpointRouteBuilder endpoints)
    {
        var api = endpoints.MapGroup("/api/prebuilds").WithTags("Prebuilds");
        api.MapPost("/", RegisterAsync)
            .WithName("RegisterPrebuild")
            .WithSummary("Register a prebuilt image for a repository and ref (for CI): launches of them start from it.")
            .Accepts<RegisterPrebuildRequest>("application/json")
            .Produces<PrebuildResource>(StatusCodes.Status201Created)
            .ProducesProblem(StatusCodes.Status400BadRequest)
            .ProducesProblem(StatusCodes.Status403Forbidden);
        api.MapPost("/build", BuildAsync)
            .WithName("BuildPrebuild")
            .WithSummary("Build a repository's prebuild on the platform (image, features, clone, onCreateCommand, updateContentCommand), push it to Prebuilds:Registry and register it.")
            .Accepts<BuildPrebuildRequest>("application/json")
            .Produces<PrebuildBuildResource>(StatusCodes.Status202Accepted)
            .ProducesProblem(StatusCodes.Status400BadRequest)
            .ProducesProblem(StatusCodes.Status403Forbidden)
            .ProducesProblem(StatusCodes.Status409Conflict);
        api.MapGet("/build", GetBuildAsync)
            .WithName("GetPrebuildBuild")
            .WithSummary("The latest platform build of a repository's prebuild (?repo=<URL>&ref=<ref>), with its events.")
            .Produces<PrebuildBuildResource>()
            .ProducesProblem(StatusCodes.Status400BadRequest)
            .ProducesProblem(StatusCodes.Status404NotFound);
        api.MapGet("/build/events", PrebuildBuildEventStream.StreamAsync)
            .WithName("StreamPrebuildBuildEvents")
            .WithSummary("Server-Sent Events of a platform build (?repo=<URL>&ref=<ref>): each line it logs (event: log), then its outcome (event: end).")
            .Produces<PrebuildBuildEventStream.PrebuildBuildEventResource>(StatusCodes.Status200OK, "text/event-stream")
            .ProducesProblem(StatusCodes.Status400BadRequest)
            .ProducesProblem(StatusCodes.Status404NotFound);
        api.MapPost("/webhook", PrebuildWebhookEndpoint.ReceiveAsync)
            .AllowAnonymous()
            .WithName("PrebuildPushWebhook")
            .WithSummary("GitHub's push webhook, signed with Api:PrebuildWebhookSecret: rebuilds this platform's prebuilds of the pushed branch or tag.")
            .Produces<PrebuildWebhookEndpoint.PrebuildWebhookResult>()
            .Produces<PrebuildWebhookEndpoint.PrebuildWebhookResult>(StatusCodes.Status202Accepted)
            .ProducesProblem(StatusCodes.Status400BadRequest)
            .ProducesProblem(StatusCodes.Status401Unauthorized)
            .ProducesProblem(StatusCodes.Status404NotFound);
        api.MapGet("/", ListAsync)
            .WithName("ListPrebuilds")
            .WithSummary("The prebuilds registered for a repository (?repo=<URL>), one per ref.")
            .Produces<IReadOnlyList<PrebuildResource>>()
            .ProducesProblem(StatusCodes.Status400BadRequest);
        api.MapDelete("/", UnregisterAsync)
            .WithName("UnregisterPrebuild")
            .WithSummary("Remove the prebuild of a repository (?repo=) at a ref (?ref=; without it, the default branch's).")
            .Produces(StatusCodes.Status204NoContent)
            .ProducesProblem(StatusCodes.Status400BadRequest)
            .ProducesProblem(StatusCodes.Status403Forbidden);
        return endpoints;
    }

    private static async Task<IResult> RegisterAsync(
        HttpRequest request, ClaimsPrincipal user, IGrainFactory grains, IOptions<ApiOptions> options,
        IOptions<Microsoft.AspNetCore.Http.Json.JsonOptions> json, CancellationToken cancellationToken)
    {
        if (MayPublish(user, options.Value) is { } refused)
        {
            return refused;
        }

        var (body, problem) = await RequestBody.ReadAsync<RegisterPrebuildRequest>(request, ApiJson.Strict(json.Value.SerializerOptions), cancellationToken);
        if (problem is not null)
        {
            return problem;
        }

        if (string.IsNullOrWhiteSpace(body!.RepoUrl))
        {
            return ApiProblems.InvalidField("repoUrl", "repoUrl is required: the repository URL as launches give it.");
        }

        if (string.IsNullOrWhiteSpace(body.Image))
        {
            return ApiProblems.InvalidField("image", "image is required: the prebuilt image's reference.");
        }

        var registration = await grains.GetGrain<IPrebuildRegistryGrain>(body.RepoUrl)
            .RegisterAsync(new PrebuildRequest(body.Ref, body.Image, body.ConfigHash, user.UserId()));
        return TypedResults.Created($"/api/prebuilds?repo={Uri.EscapeDataString(body.RepoUrl)}", PrebuildResource.From(registration));
    }

    private static async Task<IResult> BuildAsync(
        HttpRequest request, ClaimsPrincipal user, IGrainFactory grains, IOptions<ApiOptions> options,
        IOptions<Microsoft.AspNetCore.Http.Json.JsonOptions> json, CancellationToken cancellationToken)
    {
        if (MayPublish(user, options.Value) is { } refused)
        {
            return refused;
        }

        var (body, problem) = await RequestBody.ReadAsync<BuildPrebuildRequest>(request, ApiJson.Strict(json.Value.SerializerOptions), cancellationToken);
        if (problem is not null)
        {
            return problem;
        }

        if (string.IsNullOrWhiteSpace(body!.RepoUrl))
        {
            return ApiProblems.InvalidField("repoUrl", "repoUrl is required: the repository URL as launches give it.");
        }

        var gitRef = string.IsNullOrEmpty(body.Ref) ? null : body.Ref;
        var status = await grains.GetGrain<IPrebuildBuildGrain>(PrebuildBuildKey.Of(body.RepoUrl, gitRef)).StartAsync(user.UserId());
        return TypedResults.Accepted(BuildLocation(body.RepoUrl, gitRef), PrebuildBuildResource.From(status));
    }

    private static async Task<IResult> GetBuildAsync(string? repo, string? @ref, IGrainFactory grains)
    {
        if (string.IsNullOrWhiteSpace(repo))
        {
            return ApiProblems.InvalidField("repo", "repo is required: the repository URL whose prebuild build to show.");
        }

        var gitRef = string.IsNullOrEmpty(@ref) ? null : @ref;
        return await grains.GetGrain<IPrebuildBuildGrain>(PrebuildBuildKey.Of(repo, gitRef)).GetAsync() is { } status
            ? TypedResults.Ok(PrebuildBuildResource.From(status))
            : BuildNotFound(repo, gitRef);
    }

    internal static ProblemHttpResult BuildNotFound(string repo, string? gitRef) =>
        ApiProblems.Problem(StatusCodes.Status404NotFound, "No such prebuild build.", $"No prebuild of {repo} at {gitRef ?? "the default branch"} was built here.", "prebuild-build-not-found");

    private static string BuildLocation(string repo, string? gitRef) =>
        $"/api/prebuilds/build?repo={Uri.EscapeDataString(repo)}{(gitRef is null ? string.Empty : $"&ref={Uri.EscapeDataString(gitRef)}")}";

    private static async Task<IResult> ListAsync(string? repo, IGrainFactory grains)
    {
        if (string.IsNullOrWhiteSpace(repo))
        {
            return ApiProblems.InvalidField("repo", "repo is required: the repository URL whose prebuilds to list.");
        }

        var registrations = await grains.GetGrain<IPrebuildRegistryGrain>(repo).ListAsync();
        return TypedResults.Ok(registrations.Select(PrebuildResource.From));
    }

    private static async Task<IResult> UnregisterAsync(string? repo, string? @ref, ClaimsPrincipal user, IGrainFactory grains, IOptions<ApiOptions> options)
    {
        if (MayPublish(user, options.Value) is { } refused)
        {
            return refused;
        }

        if (string.IsNullOrWhiteSpace(repo))
        {
            return ApiProblems.InvalidField("repo", "repo is required: the repository URL whose prebuild to remove.");
        }

        await grains.GetGrain<IPrebuildRegistryGrain>(repo).UnregisterAsync(string.IsNullOrEmpty(@ref) ? null : @ref);
        return TypedResults.NoContent();
    }

    private static ProblemHttpResult? MayPublish(ClaimsPrincipal user, ApiOptions options) =>
        user.IsAdmin() || options.PrebuildPublishers.Contains(user.UserId(), StringComparer.Ordinal)
            ? null
            : ApiProblems.Forbidden("Registering prebuilds decides what everyone who launches the repository runs: it needs the admin role or a place in Api:PrebuildPublishers.");
}
