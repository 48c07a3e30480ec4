using System.ComponentModel.DataAnnotations;

namespace CloudDevEnv.Grains.Provisioning.Features;

/// <summary>Where devcontainer features may come from, section <c>DevContainers</c>. Features are fetched by the control
/// plane, so only registries (and tarball hosts) the operator lists are asked; an air-gapped installation maps the
/// public ones to its own (<c>RegistryMirrors:ghcr.io=http://registry.internal:5000</c>).</summary>
public sealed class FeatureOptions : IValidatableObject
{
    public const string SectionName = "DevContainers";

    /// <summary>Registries of OCI features and hosts of feature tarballs, as <c>host</c> or <c>host:port</c>.</summary>
    public List<string> AllowedRegistries { get; set; } = ["ghcr.io", "mcr.microsoft.com"];

    /// <summary>A registry (as features name it) → the base URL to fetch from instead, e.g. <c>ghcr.io</c> →
    /// <c>http://127.0.0.1:5000</c>. A mirrored registry is allowed.</summary>
    public Dictionary<string, string> RegistryMirrors { get; set; } = [];

    /// <summary>The largest feature (its layer or tarball).</summary>
    [Range(1024, 1024L * 1024 * 1024)]
    public long MaxFeatureBytes { get; set; } = 64L * 1024 * 1024;

    /// <summary>How long fetching one feature may take.</summary>
    [Range(typeof(TimeSpan), "00:00:01", "00:30:00")]
    public TimeSpan FetchTimeout { get; set; } = TimeSpan.FromMinutes(2);

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        foreach (var (registry, mirror) in RegistryMirrors)
        {
            if (!Uri.TryCreate(mirror, UriKind.Absolute, out var url) || url.Scheme is not ("http" or "https") || url.PathAndQuery != "/")
            {
                yield return new ValidationResult($"{SectionName}:RegistryMirrors:{registry} must be a registry's base URL (http(s)://host[:port]), not '{mirror}'.");
            }
        }
    }

    public bool IsAllowed(string registry) =>
        AllowedRegistries.Contains(registry, StringComparer.OrdinalIgnoreCase) || RegistryMirrors.ContainsKey(registry);
}
