namespace CloudDevEnv.DevContainers;

/// <summary>What a configuration may ask of the container beyond the safe defaults, and what happens to a setting
/// outside that: refused (the whole configuration fails, <see cref="Strict"/>) or left out (the configuration loads
/// without it, and <see cref="DevContainerConfig.LeftOut"/> names it and says why), as Codespaces and DevPod run a
/// configuration whose every setting they cannot honour.</summary>
public sealed record DevContainerPolicy
{
    /// <summary>Refuse every setting outside the policy; the library's default, for callers that did not choose.</summary>
    public static DevContainerPolicy Strict { get; } = new() { RefuseWhatIsLeftOut = true };

    /// <summary>Leave out what is outside the policy and say so.</summary>
    public static DevContainerPolicy Lenient { get; } = new();

    public bool RefuseWhatIsLeftOut { get; init; }

    /// <summary>Capabilities a configuration may add besides those that never reach beyond the container (Docker's
    /// defaults and <c>SYS_PTRACE</c>), without the <c>CAP_</c> prefix: e.g. <c>NET_ADMIN</c>, or <c>SYS_ADMIN</c>
    /// where workspaces run under a sandboxing runtime.</summary>
    public IReadOnlySet<string> AllowedCapabilities { get; init; } = new HashSet<string>(StringComparer.Ordinal);

    /// <summary>Security options a configuration may set besides <c>no-new-privileges</c>, in Docker's
    /// <c>name=value</c> form: e.g. <c>seccomp=unconfined</c> for debuggers, <c>apparmor=unconfined</c>.</summary>
    public IReadOnlySet<string> AllowedSecurityOptions { get; init; } = new HashSet<string>(StringComparer.Ordinal);
}

/// <summary>A setting of the configuration that the policy left out.</summary>
/// <param name="Setting">As written, with where: <c>runArgs: '--privileged'</c>, <c>mounts[0]</c>.</param>
/// <param name="Why">In words, e.g. "it gives the container full control of the host".</param>
public sealed record LeftOutSetting(string Setting, string Why)
{
    public override string ToString() => $"{Setting} was left out: {Why}";
}
