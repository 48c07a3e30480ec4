using System.ComponentModel.DataAnnotations;

namespace CloudDevEnv.Grains.Provisioning.Ide;

/// <summary>Where the IDE extensions devcontainer.json lists (<c>customizations.vscode.extensions</c>) come from,
/// section <c>Ide</c>: an Open VSX-compatible registry the operator names, and for air-gapped installations a folder
/// of <c>.vsix</c> files, asked first. The control plane fetches them and keeps them in <see cref="CacheFolder"/>, so
/// that a second workspace asking for the same extension downloads nothing.</summary>
public sealed class IdeOptions : IValidatableObject
{
    public const string SectionName = "Ide";

    /// <summary>The base URL of an Open VSX-compatible registry (its <c>/api/{publisher}/{name}</c> answers). None: the
    /// extensions not in <see cref="ExtensionsFolder"/> are not installed, each named in a warning.</summary>
    public string? ExtensionRegistry { get; set; }

    /// <summary>A folder of <c>publisher.name-version.vsix</c> files (or <c>publisher.name.vsix</c>).</summary>
    public string? ExtensionsFolder { get; set; }

    /// <summary>Where fetched extensions are kept across workspaces; the hosts put it beside their data (none: a folder
    /// in the system's temporary folder).</summary>
    public string? CacheFolder { get; set; }

    /// <summary>The largest extension accepted.</summary>
    [Range(1024, 2L * 1024 * 1024 * 1024)]
    public long MaxExtensionBytes { get; set; } = 256L * 1024 * 1024;

    /// <summary>How long fetching one extension may take.</summary>
    [Range(typeof(TimeSpan), "00:00:01", "00:30:00")]
    public TimeSpan FetchTimeout { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>How long installing every extension into one workspace may take.</summary>
    [Range(typeof(TimeSpan), "00:00:05", "01:00:00")]
    public TimeSpan InstallTimeout { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>The IDE's command-line program, inside the workspace, that installs and lists extensions.</summary>
    [Required]
    public string IdeProgram { get; set; } = "/opt/clouddevenv/ide/bin/code-server";

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        if (ExtensionRegistry is { Length: > 0 } registry
            && (!Uri.TryCreate(registry, UriKind.Absolute, out var url) || url.Scheme is not ("http" or "https") || !string.IsNullOrEmpty(url.Query)))
        {
            yield return new ValidationResult($"{SectionName}:ExtensionRegistry must be an http(s) base URL of an Open VSX-compatible registry, not '{registry}'.");
        }

        if (ExtensionsFolder is { Length: > 0 } folder && !Directory.Exists(folder))
        {
            yield return new ValidationResult($"{SectionName}:ExtensionsFolder '{folder}' is not a folder.");
        }
    }
}
