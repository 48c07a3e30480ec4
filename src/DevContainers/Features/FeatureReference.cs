using System.Text.RegularExpressions;

namespace CloudDevEnv.DevContainers.Features;

public enum FeatureSourceKind
{
    /// <summary>An OCI artifact in a registry: <c>ghcr.io/devcontainers/features/node:1</c>.</summary>
    Oci = 0,

    /// <summary>A folder beside devcontainer.json: <c>./my-feature</c>.</summary>
    Local = 1,

    /// <summary>A tarball at an https URL: <c>https://example.com/features/hello.tgz</c>.</summary>
    Tarball = 2,
}

/// <summary>A feature as devcontainer.json names it (a key of <c>features</c>), read into where it comes from.</summary>
/// <param name="Written">As written in devcontainer.json.</param>
/// <param name="Registry">For OCI: the registry host (and port), e.g. <c>ghcr.io</c>, <c>localhost:5000</c>.</param>
/// <param name="Repository">For OCI: the path in the registry, e.g. <c>devcontainers/features/node</c>.</param>
/// <param name="Tag">For OCI: the tag (<c>latest</c> when none is written), or a <c>sha256:…</c> digest.</param>
/// <param name="Path">For a local feature: the folder relative to devcontainer.json's folder.</param>
/// <param name="Url">For a tarball: its URL.</param>
public sealed partial record FeatureReference(string Written, FeatureSourceKind Kind, string? Registry, string? Repository, string? Tag, string? Path, Uri? Url)
{
    /// <summary>The feature's short id: the last segment of its repository, folder or file name (<c>node</c>).</summary>
    public string ShortId => Kind switch
    {
        FeatureSourceKind.Oci => Repository![(Repository!.LastIndexOf('/') + 1)..],
        FeatureSourceKind.Local => System.IO.Path.GetFileName(Path!.TrimEnd('/')),
        _ => StripExtension(System.IO.Path.GetFileName(Url!.AbsolutePath)),
    };

    /// <summary>What identifies the feature whatever its version: two references with the same key are one feature
    /// (a <c>dependsOn</c> is satisfied by the feature the configuration already lists).</summary>
    public string Key => Kind switch
    {
        FeatureSourceKind.Oci => $"{Registry}/{Repository}",
        FeatureSourceKind.Local => "local:" + Path!.TrimEnd('/'),
        _ => Url!.AbsoluteUri,
    };

    /// <exception cref="FormatException">Not one of the three forms.</exception>
    public static FeatureReference Parse(string written)
    {
        ArgumentNullException.ThrowIfNull(written);
        var text = written.Trim();
        if (text.StartsWith("./", StringComparison.Ordinal) || text.StartsWith("../", StringComparison.Ordinal))
        {
            var parts = text.Split('/', StringSplitOptions.RemoveEmptyEntries).Skip(1).ToArray();
            if (text.StartsWith("../", StringComparison.Ordinal) || parts.Length == 0 || parts.Any(p => p is "." or ".."))
            {
                throw new FormatException($"the local feature '{written}' must be a folder inside the folder of devcontainer.json (./name)");
            }

            return new FeatureReference(written, FeatureSourceKind.Local, null, null, null, string.Join('/', parts), null);
        }

        if (text.StartsWith("https://", StringComparison.OrdinalIgnoreCase) || text.StartsWith("http://", StringComparison.OrdinalIgnoreCase))
        {
            return Uri.TryCreate(text, UriKind.Absolute, out var url) && (url.AbsolutePath.EndsWith(".tgz", StringComparison.OrdinalIgnoreCase)
                    || url.AbsolutePath.EndsWith(".tar.gz", StringComparison.OrdinalIgnoreCase) || url.AbsolutePath.EndsWith(".tar", StringComparison.OrdinalIgnoreCase))
                ? new FeatureReference(written, FeatureSourceKind.Tarball, null, null, null, null, url)
                : throw new FormatException($"the feature URL '{written}' must name a .tgz, .tar.gz or .tar file");
        }

        var match = OciPattern().Match(text);
        if (!match.Success)
        {
            throw new FormatException($"the feature '{written}' is not an OCI reference (registry/namespace/id[:tag]), a ./local folder or a tarball URL");
        }

        var tag = match.Groups["digest"].Success ? match.Groups["digest"].Value : match.Groups["tag"].Success ? match.Groups["tag"].Value : "latest";
        return new FeatureReference(written, FeatureSourceKind.Oci, match.Groups["registry"].Value, match.Groups["repository"].Value.ToLowerInvariant(), tag, null, null);
    }

    private static string StripExtension(string name) =>
        name.EndsWith(".tar.gz", StringComparison.OrdinalIgnoreCase) ? name[..^7] : System.IO.Path.GetFileNameWithoutExtension(name);

    // registry (a host with a dot or a port, or localhost) / path components / optional :tag or @sha256:digest.
    [GeneratedRegex(@"^(?<registry>(localhost|[A-Za-z0-9.-]+\.[A-Za-z0-9.-]+|[A-Za-z0-9.-]+:[0-9]+)(:[0-9]+)?)/(?<repository>[A-Za-z0-9._-]+(/[A-Za-z0-9._-]+)*)(:(?<tag>[A-Za-z0-9_][A-Za-z0-9_.-]{0,127})|@(?<digest>sha256:[a-f0-9]{64}))?$", RegexOptions.CultureInvariant)]
    private static partial Regex OciPattern();
}
