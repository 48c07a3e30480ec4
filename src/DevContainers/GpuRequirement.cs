namespace CloudDevEnv.DevContainers;

/// <summary><c>hostRequirements.gpu</c>: <c>true</c>, <c>"optional"</c>, or <c>{ cores, memory }</c>;
/// absent or <c>false</c> gives no requirement at all.</summary>
/// <param name="Optional">True for <c>"optional"</c>: use a GPU when there is one.</param>
public sealed record GpuRequirement(bool Optional, int? Cores, string? Memory, long? MemoryBytes);
