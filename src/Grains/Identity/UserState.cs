using CloudDevEnv.Contracts.Identity;

namespace CloudDevEnv.Grains.Identity;

[GenerateSerializer, Alias("cde.UserState.v1")]
public sealed class UserState
{
    /// <summary>The user's tokens, oldest first; the secrets' hashes live in each token's own grain.</summary>
    [Id(0)] public List<ApiTokenInfo> Tokens { get; set; } = [];
}
