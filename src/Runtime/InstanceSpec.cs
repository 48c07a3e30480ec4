namespace CloudDevEnv.Runtime;

/// <summary>What to create for a workspace. Fits a container with named volumes as well as a pod with a PVC.</summary>
/// <param name="Command">The entry command; null runs one that only keeps the instance up (as the devcontainer
/// CLI's overrideCommand does): the IDE and the hooks are started later by exec.</param>
/// <param name="Gateway">The workspace gateway, the instance's one way in: null for an instance nobody reaches (the
/// short-lived one that reads a repository). With it, <paramref name="Command"/> must be null: the gateway is what
/// keeps the instance up.</param>
/// <param name="Mounts">Extra mounts, e.g. a local repository bind-mounted read-only for a clone.</param>
/// <param name="CapAdd">Capabilities beyond the runtime's own set (names without <c>CAP_</c>), as the platform's
/// devcontainer policy let the repository ask.</param>
/// <param name="SecurityOptions">Security options beyond <c>no-new-privileges</c>, likewise (e.g. <c>seccomp=unconfined</c>).</param>
/// <param name="ShmSizeBytes">The size of <c>/dev/shm</c>; null keeps the runtime's default.</param>
/// <param name="Companions">Containers that run beside this one (a compose configuration's other services); only a
/// runtime whose <see cref="IWorkspaceRuntime.RunsCompanions"/> is true takes them.</param>
/// <param name="HostAliases">Names that resolve to the instance's own loopback (the companions' service names).</param>
/// <param name="Ephemeral">No workspace or home volume: every file is in the instance's own filesystem, so that an image
/// saved from it (<see cref="IWorkspaceRuntime.SaveImageAsync"/>, a prebuild) holds the checkout and the home folder.</param>
/// <param name="Offline">No network at all (only loopback): for the short-lived instance that clones a repository from
/// its bind mount, which needs none, and then starts sooner (no network to make and attach). Docker; a Kubernetes pod
/// keeps the cluster network (its namespace's NetworkPolicy applies).</param>
public sealed record InstanceSpec(
    string WorkspaceId,
    string Owner,
    string Image,
    IReadOnlyList<string>? Command,
    IReadOnlyDictionary<string, string> Environment,
    InstanceGateway? Gateway,
    IReadOnlyList<InstanceMount> Mounts,
    InstanceResources Resources,
    string? User = null,
    IReadOnlyList<string>? CapAdd = null,
    IReadOnlyList<string>? SecurityOptions = null,
    long? ShmSizeBytes = null,
    IReadOnlyList<CompanionSpec>? Companions = null,
    IReadOnlyList<string>? HostAliases = null,
    bool Ephemeral = false,
    bool Offline = false);

/// <summary>The platform's gateway inside an instance (<c>images/workspace/gateway.mjs</c>): the only port the proxy
/// reaches, and the lock on every other. It answers only requests that carry <paramref name="Secret"/> (which the proxy
/// adds and no browser ever sees), and passes each on to the IDE (listening on loopback at <paramref name="IdePort"/>)
/// or to whatever port of the instance the request names, so that every program a user starts is reachable through
/// the proxy, declared in forwardPorts or not, and none is reachable any other way.</summary>
/// <param name="Port">Where the gateway listens inside the instance; the runtime makes it reachable from the proxy only.</param>
public sealed record InstanceGateway(int Port, int IdePort, string Secret)
{
    public const int MinSecretLength = 32;

    /// <summary>A fresh secret: 32 random bytes, base64url.</summary>
    public static string NewSecret() =>
        System.Buffers.Text.Base64Url.EncodeToString(System.Security.Cryptography.RandomNumberGenerator.GetBytes(32));
}

/// <param name="Source">A host path for a bind mount. For a volume, a name that is the workspace's own: the runtime
/// scopes it to the workspace (so that two workspaces asking for "cache" get two volumes), creates it labelled with
/// the workspace, keeps it across stop and start, and removes it with the workspace. Letters, digits, '_', '.', '-'.</param>
public sealed record InstanceMount(string Source, string Target, bool ReadOnly, InstanceMountKind Kind);

public enum InstanceMountKind
{
    Bind = 0,
    Volume = 1,

    /// <summary>Memory-backed, empty at each start; <see cref="InstanceMount.Source"/> is ignored.</summary>
    Tmpfs = 2,

    /// <summary>The folder volume (the one at <see cref="IWorkspaceRuntime.WorkspaceVolumePath"/>) of the workspace whose id
    /// is <see cref="InstanceMount.Source"/>, created if need be: the short-lived instance that clones a repository
    /// clones it straight into the workspace's own volume. Only where <see cref="IWorkspaceRuntime.WorkspaceVolumePath"/>
    /// is not null.</summary>
    WorkspaceVolume = 3,
}

/// <param name="Cpus">CPU limit in cores; 0 means no limit.</param>
/// <param name="MemoryBytes">Memory limit; 0 means no limit.</param>
public sealed record InstanceResources(double Cpus, long MemoryBytes);
