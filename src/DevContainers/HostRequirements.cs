namespace CloudDevEnv.DevContainers;

/// <summary><c>hostRequirements</c>: the minimum machine the configuration asks for. Sizes are kept as
/// written and in bytes; the units <c>kb</c>, <c>mb</c>, <c>gb</c>, <c>tb</c> are powers of 1024 as in the
/// reference CLI, and a bare number is bytes.</summary>
public sealed record HostRequirements(
    int? Cpus,
    string? Memory,
    long? MemoryBytes,
    string? Storage,
    long? StorageBytes,
    GpuRequirement? Gpu);
