namespace CloudDevEnv.Grains.Access;

[GenerateSerializer, Alias("cde.AccessTokenState.v1")]
public sealed class AccessTokenState
{
    /// <summary>Set by the one redemption that succeeded.</summary>
    [Id(0)] public DateTimeOffset? RedeemedAt { get; set; }

    /// <summary>The token's expiry: once past it the record is of no more use.</summary>
    [Id(1)] public DateTimeOffset ExpiresAt { get; set; }
}
