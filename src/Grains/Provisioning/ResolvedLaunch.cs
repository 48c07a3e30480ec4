namespace CloudDevEnv.Grains.Provisioning;

/// <summary>The outcome of the Building step: the image, and what devcontainer.json asks of the later steps.</summary>
/// <param name="ConfigHash">The prebuild fingerprint of the devcontainer.json read (<see cref="Contracts.Prebuilds.PrebuildConfigHash"/>);
/// null without one.</param>
public sealed record ResolvedLaunch(ImageResolution Image, WorkspacePlan Plan, string? ConfigHash = null);
