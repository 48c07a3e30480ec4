namespace CloudDevEnv.Contracts.Access;

/// <summary>Makes a sign-in token single-use across every proxy process: keyed by the token's random id,
/// it answers true to the first redemption only and remembers it until the token has expired.</summary>
[Alias("cde.IAccessTokenGrain")]
public interface IAccessTokenGrain : IGrainWithStringKey
{
    /// <summary>True the first time; false ever after. <paramref name="expiresAt"/> is the token's expiry:
    /// past it the proxy refuses the token before asking, so the grain may forget it then.</summary>
    [Alias("Redeem")]
    Task<bool> RedeemAsync(DateTimeOffset expiresAt);
}
