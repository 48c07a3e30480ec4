namespace CloudDevEnv.Contracts.Workspaces;

/// <summary>One <c>Idempotency-Key</c> of one user (key: <see cref="KeyOf"/>): the workspace its first create named, so that
/// a create retried after a lost answer gets the same workspace, not a second one (as Stripe's and GitHub's APIs do).
/// Kept for <see cref="Lifetime"/>.</summary>
[Alias("cde.IIdempotencyGrain")]
public interface IIdempotencyGrain : IGrainWithStringKey
{
    public static readonly TimeSpan Lifetime = TimeSpan.FromHours(24);

    /// <summary>Binds the key to <paramref name="workspaceId"/> and <paramref name="requestHash"/> the first time; later,
    /// answers what the first call bound.</summary>
    [Alias("Claim")]
    Task<IdempotentClaim> ClaimAsync(string requestHash, string workspaceId);

    public static string KeyOf(string user, string idempotencyKey) => user + "\n" + idempotencyKey;
}

/// <param name="WorkspaceId">The workspace the key names.</param>
/// <param name="SameRequest">False when the key was first used with another request body: a client error.</param>
/// <param name="Replayed">True when the key was used before.</param>
[GenerateSerializer, Immutable, Alias("cde.IdempotentClaim")]
public sealed record IdempotentClaim(
    [property: Id(0)] string WorkspaceId,
    [property: Id(1)] bool SameRequest,
    [property: Id(2)] bool Replayed);
