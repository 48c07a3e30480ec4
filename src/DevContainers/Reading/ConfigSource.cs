using CloudDevEnv.DevContainers.Jsonc;

namespace CloudDevEnv.DevContainers.Reading;

/// <summary>A configuration after the load-time substitution passes, from which the model is read (again
/// after <c>${containerEnv:...}</c> is resolved).</summary>
internal sealed record ConfigSource(
    DevContainerConfigLocation Location,
    string LocalWorkspaceFolder,
    string DefaultWorkspaceFolder,
    string DevContainerId,
    JsoncObject Root,
    DevContainerPolicy Policy);
