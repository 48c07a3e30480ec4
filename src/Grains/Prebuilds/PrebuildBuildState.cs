using CloudDevEnv.Contracts.Prebuilds;

namespace CloudDevEnv.Grains.Prebuilds;

/// <summary>What a prebuild build grain persists: the latest build, stored when it starts and when it ends. Stored as
/// JSON: keep member names stable.</summary>
[GenerateSerializer, Alias("cde.PrebuildBuildState")]
public sealed class PrebuildBuildState
{
    [Id(0)] public PrebuildBuildStatus? Latest { get; set; }

    /// <summary>The image the last successful build registered: while the repository's registration still names it, the
    /// prebuild is this grain's to keep fresh.</summary>
    [Id(1)] public string? LastImage { get; set; }
}
