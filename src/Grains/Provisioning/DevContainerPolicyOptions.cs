using System.ComponentModel.DataAnnotations;
using System.Text.RegularExpressions;
using CloudDevEnv.DevContainers;

namespace CloudDevEnv.Grains.Provisioning;

/// <summary>What a repository's devcontainer.json may ask of its container, section <c>Workspaces:DevContainerPolicy</c>.
/// A setting outside it (privileged, host namespaces, bind mounts of host paths such as the Docker socket, devices,
/// GPUs, env files, extra capabilities, <c>seccomp=unconfined</c>) is left out, and the workspace launches and says what
/// it left out; <see cref="Strict"/> refuses the configuration instead. An operator whose workspaces run under a
/// sandboxing runtime (gVisor, Kata, Sysbox) allows more.</summary>
public sealed partial class DevContainerPolicyOptions : IValidatableObject
{
    public const string SectionName = "Workspaces:DevContainerPolicy";

    /// <summary>Refuse a configuration with any setting outside the policy, as the platform did before.</summary>
    public bool Strict { get; set; }

    /// <summary>Capabilities a configuration may add besides Docker's defaults and <c>SYS_PTRACE</c> (always allowed):
    /// e.g. <c>NET_ADMIN</c>.</summary>
    public List<string> AllowedCapabilities { get; set; } = [];

    /// <summary>Security options a configuration may set besides <c>no-new-privileges</c>: e.g. <c>seccomp=unconfined</c>
    /// for debuggers.</summary>
    public List<string> AllowedSecurityOptions { get; set; } = [];

    public DevContainerPolicy ToPolicy() => new()
    {
        RefuseWhatIsLeftOut = Strict,
        AllowedCapabilities = AllowedCapabilities.Select(c => c.Trim().ToUpperInvariant()).Select(c => c.StartsWith("CAP_", StringComparison.Ordinal) ? c[4..] : c)
            .ToHashSet(StringComparer.Ordinal),
        AllowedSecurityOptions = AllowedSecurityOptions.Select(o => o.Trim().ToLowerInvariant().Replace(':', '=')).ToHashSet(StringComparer.Ordinal),
    };

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        foreach (var capability in AllowedCapabilities.Where(c => !Capability().IsMatch(c.Trim())))
        {
            yield return new ValidationResult($"{SectionName}:AllowedCapabilities: '{capability}' is not a capability name (e.g. NET_ADMIN).");
        }

        foreach (var option in AllowedSecurityOptions.Where(o => !SecurityOption().IsMatch(o.Trim())))
        {
            yield return new ValidationResult($"{SectionName}:AllowedSecurityOptions: '{option}' is not a security option (name=value, e.g. seccomp=unconfined).");
        }
    }

    [GeneratedRegex("^(?i:CAP_)?[A-Za-z_]{2,32}$", RegexOptions.CultureInvariant)]
    private static partial Regex Capability();

    [GeneratedRegex("^[A-Za-z-]+[=:][A-Za-z0-9._/-]+$", RegexOptions.CultureInvariant)]
    private static partial Regex SecurityOption();
}
