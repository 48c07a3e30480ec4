namespace CloudDevEnv.Contracts.Prebuilds;

/// <summary>The prebuilt images registered for one repository, keyed by its URL as launches give it, one per ref (a
/// launch without a ref uses the one registered without a ref, i.e. the default branch's). A prebuild workflow or an
/// operator registers the image it built; a launch of that repository at that ref then starts from it instead of
/// building, unless the registration names another devcontainer.json than the launch finds.</summary>
[Alias("cde.IPrebuildRegistryGrain")]
public interface IPrebuildRegistryGrain : IGrainWithStringKey
{
    /// <summary>Registers the image for the registration's ref, replacing the one before it; returns what is registered.</summary>
    /// <exception cref="Workspaces.WorkspaceRejectedException">Invalid: the image is not a reference the platform may run.</exception>
    [Alias("Register")]
    Task<PrebuildRegistration> RegisterAsync(PrebuildRequest request);

    /// <summary>The registration for <paramref name="gitRef"/> (null: the default branch), or null when none.</summary>
    [Alias("Find")]
    Task<PrebuildRegistration?> FindAsync(string? gitRef);

    /// <summary>Every ref's registration, by ref (the default branch's first).</summary>
    [Alias("List")]
    Task<ImmutableArray<PrebuildRegistration>> ListAsync();

    [Alias("Unregister")]
    Task UnregisterAsync(string? gitRef);
}

/// <summary>What a prebuild registers.</summary>
/// <param name="Ref">The branch or tag it was built from; null for the default branch.</param>
/// <param name="ConfigHash">The SHA-256 (hex) of the devcontainer.json it was built from (<see cref="PrebuildConfigHash"/>);
/// a launch whose devcontainer.json differs does not use it. Null matches any.</param>
/// <param name="RegisteredBy">The user (a CI token's owner) who registers it.</param>
[GenerateSerializer, Immutable, Alias("cde.PrebuildRequest")]
public sealed record PrebuildRequest(string? Ref, string Image, string? ConfigHash, string RegisteredBy);

/// <summary>An image registered for a repository and ref.</summary>
[GenerateSerializer, Immutable, Alias("cde.PrebuildRegistration.v2")]
public sealed record PrebuildRegistration(
    [property: Id(0)] string RepoUrl,
    [property: Id(1)] string? Ref,
    [property: Id(2)] string Image,
    [property: Id(3)] string? ConfigHash,
    [property: Id(4)] DateTimeOffset RegisteredAt,
    [property: Id(5)] string RegisteredBy);

/// <summary>How a devcontainer.json is fingerprinted for prebuilds: the SHA-256 of the file's bytes as committed, in
/// lower-case hex, which a workflow computes with <c>sha256sum .devcontainer/devcontainer.json</c>.</summary>
public static class PrebuildConfigHash
{
    public static string Of(ReadOnlySpan<byte> configFile) => Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(configFile));

    public static bool IsValid(string hash) => hash.Length == 64 && hash.All(c => c is >= '0' and <= '9' or >= 'a' and <= 'f');
}
