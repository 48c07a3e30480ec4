namespace CloudDevEnv.Contracts.Identity;

/// <summary>One API token, keyed by its id: whose it is, the hash of its secret and when it expires. Every API process
/// asks this grain on every bearer request, so a revocation takes effect at once everywhere.</summary>
[Alias("cde.IApiTokenGrain")]
public interface IApiTokenGrain : IGrainWithStringKey
{
    /// <summary>Stores the token. Refused (Conflict) when the id is taken.</summary>
    [Alias("Issue")]
    Task IssueAsync(string user, byte[] secretHash, DateTimeOffset expiresAt);

    /// <summary>The user the token belongs to, or null when no token has this id, it was revoked, it has expired, or
    /// the hash does not match (compared in constant time).</summary>
    [Alias("Authenticate")]
    Task<string?> AuthenticateAsync(byte[] secretHash);

    /// <summary>Forgets the token. Idempotent.</summary>
    [Alias("Revoke")]
    Task RevokeAsync();
}
