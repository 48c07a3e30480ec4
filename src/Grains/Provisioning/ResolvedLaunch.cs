namespace CloudDevEnv.Grains.Provisioning;

/// <summary>The outcome of the Building step: the image, and what devcontainer.json asks of the later steps.</summary>
public sealed record ResolvedLaunch(ImageResolution Image, WorkspacePlan Plan);
