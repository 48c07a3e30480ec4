namespace CloudDevEnv.Contracts.Prebuilds;

/// <summary>The prebuilt image registered for one repository (and ref), keyed by <see cref="PrebuildKey.For"/>.
/// A prebuild workflow or the API registers the image it built; a launch of that repository at that ref then
/// starts from it instead of building.</summary>
[Alias("cde.IPrebuildRegistryGrain")]
public interface IPrebuildRegistryGrain : IGrainWithStringKey
{
    /// <summary>Registers (or replaces) the image; returns what is registered now.</summary>
    [Alias("Register")]
    Task<PrebuildRegistration> RegisterAsync(string image);

    /// <summary>The registration, or null when none.</summary>
    [Alias("Get")]
    Task<PrebuildRegistration?> GetAsync();

    [Alias("Unregister")]
    Task UnregisterAsync();
}

/// <summary>An image registered for a repository and ref.</summary>
[GenerateSerializer, Immutable, Alias("cde.PrebuildRegistration")]
public sealed record PrebuildRegistration(
    [property: Id(0)] string Key,
    [property: Id(1)] string Image,
    [property: Id(2)] DateTimeOffset RegisteredAt);

public static class PrebuildKey
{
    /// <summary>The registry key of a repository at a ref: the URL as given, then <c>#ref</c> when a ref is named
    /// (a launch without a ref uses the registration without one, i.e. the default branch's).</summary>
    public static string For(string repoUrl, string? gitRef) =>
        string.IsNullOrEmpty(gitRef) ? repoUrl : $"{repoUrl}#{gitRef}";
}
