using System.Text.RegularExpressions;

namespace CloudDevEnv.Contracts.Owners;

/// <summary>User ids, which own workspaces: as Git hosts spell user names (letters, digits, '-', '_' and '.') or as
/// identity providers do (an e-mail address, so '@' too), at most 64, never starting with a punctuation mark, so
/// that <see cref="Workspaces.WorkspaceActor.Platform"/> is never a user's.</summary>
public static partial class OwnerName
{
    public const int MaxLength = 64;

    public static bool IsValid(string? owner) => owner is { Length: > 0 and <= MaxLength } && Pattern().IsMatch(owner);

    [GeneratedRegex("^[A-Za-z0-9][A-Za-z0-9._@-]*$", RegexOptions.CultureInvariant)]
    private static partial Regex Pattern();
}
