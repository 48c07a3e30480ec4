namespace CloudDevEnv.DevContainers.Tests.ReferenceCli;

/// <summary>The optional <c>.conformance.json</c> of a case.</summary>
/// <param name="LocalEnv">Variables added to the fixed environment both the CLI and the loader see.</param>
/// <param name="ContainerEnv">When set, the CLI is shown a running container with this environment, and the
/// loader's result is compared after <see cref="DevContainerConfig.WithContainerEnvironment"/>.</param>
/// <param name="ConfigName">Passed to the loader as the configuration name.</param>
/// <param name="ExpectedName">The sub-folder the loader must pick.</param>
/// <param name="ExpectedPlacement">Where the loader must find the file.</param>
internal sealed record ConformanceSettings(
    Dictionary<string, string>? LocalEnv = null,
    Dictionary<string, string>? ContainerEnv = null,
    string? ConfigName = null,
    string? ExpectedName = null,
    DevContainerConfigPlacement? ExpectedPlacement = null);
