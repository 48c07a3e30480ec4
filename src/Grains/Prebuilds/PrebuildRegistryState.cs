using CloudDevEnv.Contracts.Prebuilds;

namespace CloudDevEnv.Grains.Prebuilds;

/// <summary>What a prebuild registry grain persists. Stored as JSON: keep member names stable.</summary>
[GenerateSerializer, Alias("cde.PrebuildRegistryState.v2")]
public sealed class PrebuildRegistryState
{
    /// <summary>By ref; the default branch's under <see cref="DefaultBranch"/>.</summary>
    [Id(0)] public Dictionary<string, PrebuildRegistration> Registrations { get; set; } = [];

    /// <summary>The key of the registration without a ref (not a ref name: refs never start with ':').</summary>
    public const string DefaultBranch = ":default";

    public static string KeyOf(string? gitRef) => gitRef ?? DefaultBranch;
}
