namespace CloudDevEnv.Runtime;

/// <summary>What to create for a workspace. Fits a container with named volumes as well as a pod with a PVC.</summary>
/// <param name="Command">The entry command; null runs one that only keeps the instance up (as the devcontainer
/// CLI's overrideCommand does): the IDE and the hooks are started later by exec.</param>
/// <param name="Ports">Ports inside the instance that must be reachable from the proxy.</param>
/// <param name="Mounts">Extra mounts, e.g. a local repository bind-mounted read-only for file:// clones.</param>
public sealed record InstanceSpec(
    string WorkspaceId,
    string Owner,
    string Image,
    IReadOnlyList<string>? Command,
    IReadOnlyDictionary<string, string> Environment,
    IReadOnlyList<int> Ports,
    IReadOnlyList<InstanceMount> Mounts,
    InstanceResources Resources,
    string? User = null);

/// <param name="Source">A host path for a bind mount. For a volume, a name that is the workspace's own: the runtime
/// scopes it to the workspace (so that two workspaces asking for "cache" get two volumes), creates it labelled with
/// the workspace, keeps it across stop and start, and removes it with the workspace. Letters, digits, '_', '.', '-'.</param>
public sealed record InstanceMount(string Source, string Target, bool ReadOnly, InstanceMountKind Kind);

public enum InstanceMountKind
{
    Bind = 0,
    Volume = 1,
}

/// <param name="Cpus">CPU limit in cores; 0 means no limit.</param>
/// <param name="MemoryBytes">Memory limit; 0 means no limit.</param>
public sealed record InstanceResources(double Cpus, long MemoryBytes);
