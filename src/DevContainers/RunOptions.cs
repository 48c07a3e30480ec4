namespace CloudDevEnv.DevContainers;

/// <summary>The accepted subset of <c>runArgs</c> (and of the <c>init</c>, <c>capAdd</c> and
/// <c>securityOpt</c> properties) as structured options for the runtime. Anything that would weaken
/// isolation from the host or from other workspaces is refused when the configuration is loaded, so a
/// caller may apply everything here as is.</summary>
/// <param name="Environment">From <c>--env NAME=VALUE</c>; a later entry wins.</param>
/// <param name="Labels">From <c>--label</c>.</param>
/// <param name="MemoryBytes">From <c>--memory</c> (Docker units, powers of 1024).</param>
/// <param name="Cpus">From <c>--cpus</c>.</param>
/// <param name="ShmSizeBytes">From <c>--shm-size</c>.</param>
/// <param name="User">From <c>--user</c>; <c>containerUser</c> is the usual way to say this.</param>
/// <param name="Init">From <c>--init</c> or <c>"init": true</c>.</param>
/// <param name="CapAdd">Capabilities without the <c>CAP_</c> prefix, upper case; only ones that do not
/// reach beyond the container (Docker's defaults and <c>SYS_PTRACE</c>).</param>
/// <param name="SecurityOptions">Only <c>no-new-privileges</c>, which tightens isolation.</param>
/// <param name="Mounts">Named or anonymous volumes and tmpfs from <c>--volume</c>, <c>--mount</c>, <c>--tmpfs</c>.</param>
/// <param name="IgnoredArguments">Accepted but deliberately not applied, as written: options the platform
/// decides itself (<c>--name</c>, <c>--rm</c>, <c>-it</c>, <c>--publish</c>, <c>--network=bridge</c>...).</param>
public sealed record RunOptions(
    IReadOnlyDictionary<string, string> Environment,
    IReadOnlyDictionary<string, string> Labels,
    long? MemoryBytes,
    double? Cpus,
    long? ShmSizeBytes,
    string? Hostname,
    IReadOnlyList<HostEntry> ExtraHosts,
    string? User,
    bool Init,
    IReadOnlyList<string> CapAdd,
    IReadOnlyList<string> CapDrop,
    IReadOnlyList<string> SecurityOptions,
    IReadOnlyList<DevContainerMount> Mounts,
    IReadOnlyList<string> IgnoredArguments)
{
    public static RunOptions None { get; } = new(
        new Dictionary<string, string>(StringComparer.Ordinal),
        new Dictionary<string, string>(StringComparer.Ordinal),
        null, null, null, null, [], null, false, [], [], [], [], []);
}
