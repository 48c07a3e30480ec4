using System.Security.Claims;
using CloudDevEnv.Api.Problems;
using CloudDevEnv.Api.Workspaces;
using CloudDevEnv.Contracts.Identity;
using Microsoft.Extensions.Options;

namespace CloudDevEnv.Api.Identity;

/// <summary>API tokens for scripts, CI and the CLI: <c>Authorization: Bearer &lt;token&gt;</c>.</summary>
public static class TokenEndpoints
{
    public const int DefaultLifetimeDays = 30;

    /// <param name="ExpiresInDays">Defaults to 30 (as Coder's CLI tokens); at most <c>Auth:Tokens:MaxLifetime</c>.</param>
    public sealed record CreateTokenRequest(string? Name, int? ExpiresInDays = null);

    public sealed record TokenResource(string Id, string Name, DateTimeOffset CreatedAt, DateTimeOffset ExpiresAt)
    {
        public static TokenResource From(ApiTokenInfo info) => new(info.Id, info.Name, info.CreatedAt, info.ExpiresAt);
    }

    /// <summary>The only answer that shows the secret.</summary>
    public sealed record CreatedTokenResource(string Id, string Name, string Token, DateTimeOffset CreatedAt, DateTimeOffset ExpiresAt);

    public static IEndpointRouteBuilder MapTokenEndpoints(this IEndpointRouteBuilder endpoints)
    {
        var api = endpoints.MapGroup("/api/tokens").WithTags("Identity");
        api.MapPost("/", CreateAsync)
            .Accepts<CreateTokenRequest>("application/json")
            .Produces<CreatedTokenResource>(StatusCodes.Status201Created)
            .ProducesProblem(StatusCodes.Status400BadRequest)
            .WithName("CreateToken")
            .WithSummary("Create an API token; its secret is shown in this answer only.");
        api.MapGet("/", async (ClaimsPrincipal user, IGrainFactory grains) =>
                TypedResults.Ok((await grains.GetGrain<IUserGrain>(user.UserId()).ListTokensAsync()).Select(TokenResource.From)))
            .WithName("ListTokens")
            .WithSummary("My tokens, without their secrets.");
        api.MapDelete("/{id}", async (string id, ClaimsPrincipal user, IGrainFactory grains) =>
                ApiTokenFormat.IsId(id) && await grains.GetGrain<IUserGrain>(user.UserId()).RevokeTokenAsync(id)
                    ? Results.NoContent()
                    : ApiProblems.Problem(StatusCodes.Status404NotFound, "No such token.", $"You have no token with the id '{id}'.", "token-not-found"))
            .Produces(StatusCodes.Status204NoContent)
            .ProducesProblem(StatusCodes.Status404NotFound)
            .WithName("RevokeToken")
            .WithSummary("Revoke one of my tokens; it stops working at once.");
        return endpoints;
    }

    private static async Task<IResult> CreateAsync(
        HttpRequest request, ClaimsPrincipal user, IGrainFactory grains, IOptions<Microsoft.AspNetCore.Http.Json.JsonOptions> json, CancellationToken cancellationToken)
    {
        var (body, problem) = await RequestBody.ReadAsync<CreateTokenRequest>(request, ApiJson.Strict(json.Value.SerializerOptions), cancellationToken);
        if (problem is not null)
        {
            return problem;
        }

        if (string.IsNullOrWhiteSpace(body!.Name))
        {
            return ApiProblems.InvalidField("name", "name is required: say what the token is for (\"ci\", \"laptop\").");
        }

        var days = body.ExpiresInDays ?? DefaultLifetimeDays;
        if (days < 1)
        {
            return ApiProblems.InvalidField("expiresInDays", "expiresInDays must be at least 1.");
        }

        // The grain refuses more than the platform's maximum (at most 3650 days) and names it; the cap only keeps a huge
        // number from overflowing the TimeSpan on the way there.
        var created = await grains.GetGrain<IUserGrain>(user.UserId()).CreateTokenAsync(body.Name, TimeSpan.FromDays(Math.Min(days, 36_500)));
        var info = created.Info;
        return TypedResults.Created($"/api/tokens/{info.Id}", new CreatedTokenResource(info.Id, info.Name, created.Token, info.CreatedAt, info.ExpiresAt));
    }
}
