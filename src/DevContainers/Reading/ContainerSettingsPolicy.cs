namespace CloudDevEnv.DevContainers.Reading;

/// <summary>What a container may be given, one answer for every place that asks (runArgs, the top-level properties,
/// features, compose services): a capability or security option is kept, or refused with why.</summary>
internal static class ContainerSettingsPolicy
{
    // Docker's default capability set plus SYS_PTRACE (debuggers), none of which reach beyond the container.
    private static readonly HashSet<string> SafeCapabilities = new(StringComparer.Ordinal)
    {
        "AUDIT_WRITE", "CHOWN", "DAC_OVERRIDE", "FOWNER", "FSETID", "KILL", "MKNOD", "NET_BIND_SERVICE",
        "NET_RAW", "SETFCAP", "SETGID", "SETPCAP", "SETUID", "SYS_CHROOT", "SYS_PTRACE",
    };

    public static string NormalizeCapability(string value)
    {
        var cap = value.Trim().ToUpperInvariant();
        return cap.StartsWith("CAP_", StringComparison.Ordinal) ? cap[4..] : cap;
    }

    /// <returns>Why the capability may not be added (to follow "is not allowed: "), or null when it may.</returns>
    public static string? CapabilityRefusal(DevContainerPolicy policy, string normalized) =>
        SafeCapabilities.Contains(normalized) || policy.AllowedCapabilities.Contains(normalized)
            ? null
            : normalized switch
            {
                "ALL" => "it grants every capability, which amounts to --privileged",
                "SYS_ADMIN" => "it allows mounting file systems and other ways out of the container",
                _ => $"only {string.Join(", ", SafeCapabilities.Union(policy.AllowedCapabilities).Order(StringComparer.Ordinal))} may be added",
            };

    /// <summary>The option as Docker takes it (<c>name=value</c>, lower case).</summary>
    public static string NormalizeSecurityOption(string value)
    {
        var normalized = value.Trim().ToLowerInvariant().Replace(':', '=');
        return normalized is "no-new-privileges=true" ? "no-new-privileges" : normalized;
    }

    /// <returns>Why the security option may not be set (to follow "is not allowed: "), or null when it may.</returns>
    public static string? SecurityOptionRefusal(DevContainerPolicy policy, string normalized) =>
        normalized == "no-new-privileges" || policy.AllowedSecurityOptions.Contains(normalized)
            ? null
            : normalized switch
            {
                "seccomp=unconfined" => "it turns off the seccomp system call filter",
                "apparmor=unconfined" => "it turns off AppArmor confinement",
                "label=disable" => "it turns off SELinux confinement",
                "systempaths=unconfined" => "it exposes the host's kernel interfaces under /proc and /sys",
                _ when normalized.StartsWith("seccomp=", StringComparison.Ordinal) => "custom seccomp profiles are not supported",
                _ => "only no-new-privileges is supported",
            };

    public const string Privileged = "it gives the container full control of the host";

    public const string HostDevices = "it gives the container access to host devices";

    public const string HostBind = "it bind-mounts a host path (use a named volume)";

    public const string HostFile = "it reads a file on the host";

    public static string HostNamespace(string which) => $"it shares the host's {which} namespace with the container";
}
