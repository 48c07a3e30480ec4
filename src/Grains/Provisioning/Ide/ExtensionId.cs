using System.Diagnostics.CodeAnalysis;
using System.Text.RegularExpressions;

namespace CloudDevEnv.Grains.Provisioning.Ide;

/// <summary>An extension as devcontainer.json names it: <c>publisher.name</c>, optionally <c>@version</c>.</summary>
public sealed partial record ExtensionId(string Publisher, string Name, string? Version)
{
    public string Id => $"{Publisher}.{Name}";

    public override string ToString() => Version is null ? Id : $"{Id}@{Version}";

    /// <summary>Names that could reach a file system or a URL are refused here: the list is the repository's.</summary>
    public static bool TryParse(string text, [NotNullWhen(true)] out ExtensionId? id)
    {
        var match = Pattern().Match(text ?? string.Empty);
        id = match.Success
            ? new ExtensionId(match.Groups["publisher"].Value, match.Groups["name"].Value, match.Groups["version"].Success ? match.Groups["version"].Value : null)
            : null;
        return id is not null;
    }

    [GeneratedRegex(@"^(?<publisher>[a-z0-9][a-z0-9-]{0,99})\.(?<name>[a-z0-9][a-z0-9-]{0,99})(@(?<version>[0-9]+(\.[0-9]+){0,3}(-[0-9a-z.-]{1,50})?))?$", RegexOptions.CultureInvariant)]
    private static partial Regex Pattern();
}
