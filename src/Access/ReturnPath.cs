namespace CloudDevEnv.Access;

/// <summary>The one check for every redirect parameter (<c>return</c>, <c>returnUrl</c>): only a path on the same host.
/// Refused, and replaced by <c>/</c>: anything not starting with one '/', <c>//host</c> and <c>/\host</c> (which browsers
/// read as another host), backslashes anywhere, control characters (tabs and line breaks included, which browsers
/// strip before resolving), and paths over 2 KiB.</summary>
public static class ReturnPath
{
    public const int MaxLength = 2048;

    public static string Sanitize(string? value) => IsSafe(value) ? value! : "/";

    public static bool IsSafe(string? value) =>
        value is { Length: > 0 and <= MaxLength }
        && value[0] == '/'
        && (value.Length == 1 || value[1] != '/')
        && !value.Any(c => c == '\\' || char.IsControl(c));
}
