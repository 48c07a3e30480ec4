using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using CloudDevEnv.Api.Problems;
using CloudDevEnv.Api.Workspaces;
using CloudDevEnv.Contracts.Prebuilds;
using Microsoft.Extensions.Options;

namespace CloudDevEnv.Api.Prebuilds;

/// <summary><c>POST /api/prebuilds/webhook</c>: GitHub's push webhook (content type <c>application/json</c>, with
/// <see cref="ApiOptions.PrebuildWebhookSecret"/> as its secret). A push to a branch or tag rebuilds the prebuilds this
/// platform built for that repository and ref (and, on the default branch, the one built without a ref), as
/// Codespaces' "every push" trigger does. It takes no user: GitHub's HMAC-SHA256 signature of the body
/// (<c>X-Hub-Signature-256</c>) is what it checks, and it can only rebuild what an operator or CI already built.</summary>
public static class PrebuildWebhookEndpoint
{
    /// <summary>Who a webhook's rebuild is requested by, in its status.</summary>
    public const string Requester = "github-push";

    /// <summary>GitHub's own cap is 25 MB; a push of many commits stays far below this.</summary>
    private const int MaxBytes = 5 * 1024 * 1024;

    /// <param name="Builds">The rebuilds the delivery started (or found under way).</param>
    public sealed record PrebuildWebhookResult(string Message, IReadOnlyList<PrebuildEndpoints.PrebuildBuildResource> Builds);

    public static async Task<IResult> ReceiveAsync(HttpRequest request, IGrainFactory grains, IOptions<ApiOptions> options, CancellationToken cancellationToken)
    {
        if (string.IsNullOrEmpty(options.Value.PrebuildWebhookSecret))
        {
            return ApiProblems.Problem(StatusCodes.Status404NotFound, "No webhook here.",
                "This platform takes no push webhooks: Api:PrebuildWebhookSecret is not set.", "webhook-not-configured");
        }

        var (body, problem) = await RequestBody.ReadBytesAsync(request, MaxBytes, cancellationToken);
        if (problem is not null)
        {
            return problem;
        }

        if (!IsSigned(body!, request.Headers["X-Hub-Signature-256"].ToString(), options.Value.PrebuildWebhookSecret))
        {
            return ApiProblems.Unauthenticated(
                "The delivery's X-Hub-Signature-256 is missing or does not match its body: the webhook's secret must be Api:PrebuildWebhookSecret.");
        }

        var kind = request.Headers["X-GitHub-Event"].ToString();
        if (kind == "ping")
        {
            return TypedResults.Ok(new PrebuildWebhookResult("pong", []));
        }

        if (kind != "push")
        {
            return TypedResults.Ok(new PrebuildWebhookResult($"Only push events rebuild prebuilds; '{(kind.Length == 0 ? "(no X-GitHub-Event)" : kind)}' is ignored.", []));
        }

        PushEvent push;
        try
        {
            push = JsonSerializer.Deserialize<PushEvent>(body, PushJson) ?? throw new JsonException("null");
        }
        catch (JsonException)
        {
            return ApiProblems.InvalidField("body", "The push event is not the JSON GitHub sends (ref, repository.clone_url, repository.html_url).");
        }

        if (push.Ref is not { } pushed || push.Repository is not { } repository)
        {
            return ApiProblems.InvalidField("ref", "The push event names no ref or repository.");
        }

        var name = pushed.StartsWith("refs/heads/", StringComparison.Ordinal) ? pushed["refs/heads/".Length..]
            : pushed.StartsWith("refs/tags/", StringComparison.Ordinal) ? pushed["refs/tags/".Length..]
            : null;
        if (name is null || push.Deleted)
        {
            return TypedResults.Ok(new PrebuildWebhookResult($"{pushed} {(push.Deleted ? "was deleted" : "is not a branch or tag")}: nothing to rebuild.", []));
        }

        var started = new List<PrebuildEndpoints.PrebuildBuildResource>();
        foreach (var (repoUrl, gitRef) in Candidates(repository, name))
        {
            if (await grains.GetGrain<IPrebuildBuildGrain>(PrebuildBuildKey.Of(repoUrl, gitRef)).RefreshAsync(Requester) is { } status)
            {
                started.Add(PrebuildEndpoints.PrebuildBuildResource.From(status with { Events = [] }));
            }
        }

        return started.Count == 0
            ? TypedResults.Ok(new PrebuildWebhookResult($"No prebuild of this platform's follows {repository.HtmlUrl ?? repository.CloneUrl} at {name}.", []))
            : TypedResults.Accepted((string?)null, new PrebuildWebhookResult($"Rebuilding {started.Count} prebuild(s).", started));
    }

    private static bool IsSigned(byte[] body, string header, string secret)
    {
        const string Prefix = "sha256=";
        if (!header.StartsWith(Prefix, StringComparison.Ordinal))
        {
            return false;
        }

        var expected = HMACSHA256.HashData(Encoding.UTF8.GetBytes(secret), body);
        byte[] given;
        try
        {
            given = Convert.FromHexString(header.AsSpan(Prefix.Length));
        }
        catch (FormatException)
        {
            return false;
        }

        return CryptographicOperations.FixedTimeEquals(expected, given);
    }

    /// <summary>The (repository URL, ref) keys a push may have been built under: launches give a repository as its page
    /// or its clone URL, with or without ".git"; the default branch's prebuild is also the one built without a ref.</summary>
    private static IEnumerable<(string RepoUrl, string? Ref)> Candidates(PushRepository repository, string name)
    {
        var urls = new[] { repository.CloneUrl, repository.HtmlUrl }
            .Where(u => !string.IsNullOrEmpty(u))
            .SelectMany(u => new[] { u!, u!.EndsWith(".git", StringComparison.Ordinal) ? u[..^4] : u + ".git" })
            .Distinct(StringComparer.Ordinal);
        foreach (var url in urls)
        {
            yield return (url, name);
            if (name == repository.DefaultBranch)
            {
                yield return (url, null);
            }
        }
    }

    private static readonly JsonSerializerOptions PushJson = new() { PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower };

    private sealed record PushEvent(string? Ref, bool Deleted, PushRepository? Repository);

    private sealed record PushRepository(string? CloneUrl, string? HtmlUrl, string? DefaultBranch);
}
