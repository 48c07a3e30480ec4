using System.Text.RegularExpressions;

namespace CloudDevEnv.Grains.Workspaces;

/// <summary>A branch or tag name as git's check-ref-format allows it, minus what a shell or git could
/// read as an option: the ref reaches a command line inside the workspace.</summary>
public static partial class GitRef
{
    public static bool IsValid(string name) =>
        name.Length is > 0 and <= 255
        && Allowed().IsMatch(name)
        && !name.StartsWith('-')
        && !name.StartsWith('/')
        && !name.EndsWith('/')
        && !name.EndsWith(".lock", StringComparison.Ordinal)
        && !name.Contains("..", StringComparison.Ordinal)
        && !name.Contains("//", StringComparison.Ordinal)
        && !name.Contains("@{", StringComparison.Ordinal);

    [GeneratedRegex("^[A-Za-z0-9._/+-]+$", RegexOptions.CultureInvariant)]
    private static partial Regex Allowed();
}
