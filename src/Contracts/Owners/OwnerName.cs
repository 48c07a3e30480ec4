using System.Text.RegularExpressions;

namespace CloudDevEnv.Contracts.Owners;

/// <summary>Owner names as Git hosts spell user names: letters, digits, '-', '_' and '.', at most 64.</summary>
public static partial class OwnerName
{
    public const int MaxLength = 64;

    public static bool IsValid(string? owner) => owner is { Length: > 0 and <= MaxLength } && Pattern().IsMatch(owner);

    [GeneratedRegex("^[A-Za-z0-9][A-Za-z0-9._-]*$", RegexOptions.CultureInvariant)]
    private static partial Regex Pattern();
}
