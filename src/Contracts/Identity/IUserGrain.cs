namespace CloudDevEnv.Contracts.Identity;

/// <summary>One user's API tokens, keyed by the user id. Creates them (the secret is returned once and never stored),
/// lists them without their secrets, and revokes them.</summary>
[Alias("cde.IUserGrain")]
public interface IUserGrain : IGrainWithStringKey
{
    /// <summary>A new token. Refused (Invalid) for a bad name or lifetime, or when the user has too many tokens.</summary>
    [Alias("CreateToken")]
    Task<NewApiToken> CreateTokenAsync(string name, TimeSpan lifetime);

    /// <summary>The user's tokens that have not expired, oldest first.</summary>
    [Alias("ListTokens")]
    Task<ImmutableArray<ApiTokenInfo>> ListTokensAsync();

    /// <summary>Revokes one of the user's tokens; false when the user has no token with this id.</summary>
    [Alias("RevokeToken")]
    Task<bool> RevokeTokenAsync(string tokenId);
}

/// <summary>What is shown of a token after its creation: never its secret.</summary>
[GenerateSerializer, Immutable, Alias("cde.ApiTokenInfo")]
public sealed record ApiTokenInfo(
    [property: Id(0)] string Id,
    [property: Id(1)] string Name,
    [property: Id(2)] DateTimeOffset CreatedAt,
    [property: Id(3)] DateTimeOffset ExpiresAt);

/// <summary>A token just created: <see cref="Token"/> is the only copy of its secret.</summary>
[GenerateSerializer, Immutable, Alias("cde.NewApiToken")]
public sealed record NewApiToken(
    [property: Id(0)] ApiTokenInfo Info,
    [property: Id(1)] string Token);
