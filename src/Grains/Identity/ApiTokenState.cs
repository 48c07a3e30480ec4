namespace CloudDevEnv.Grains.Identity;

[GenerateSerializer, Alias("cde.ApiTokenState.v1")]
public sealed class ApiTokenState
{
    /// <summary>Null when no token has this id (never issued, revoked, or expired and forgotten).</summary>
    [Id(0)] public string? User { get; set; }

    /// <summary>SHA-256 of the secret; the secret itself is never stored.</summary>
    [Id(1)] public byte[] SecretHash { get; set; } = [];

    [Id(2)] public DateTimeOffset ExpiresAt { get; set; }
}
