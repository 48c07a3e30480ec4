namespace CloudDevEnv.Grains.Prebuilds;

/// <summary>What a prebuild registry grain persists. Stored as JSON: keep member names stable.</summary>
[GenerateSerializer, Alias("cde.PrebuildRegistryState.v1")]
public sealed class PrebuildRegistryState
{
    [Id(0)] public string? Image { get; set; }

    [Id(1)] public DateTimeOffset RegisteredAt { get; set; }
}
