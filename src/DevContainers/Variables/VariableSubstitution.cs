using System.Text.RegularExpressions;
using CloudDevEnv.DevContainers.Jsonc;
using CloudDevEnv.DevContainers.Reading;

namespace CloudDevEnv.DevContainers.Variables;

/// <summary>The <c>${name:arg:arg}</c> syntax of devcontainer.json, matched exactly as the reference CLI
/// (src/spec-common/variableSubstitution.ts) does, so that odd inputs resolve the same way.</summary>
internal static partial class VariableSubstitution
{
    /// <summary>Resolves one variable; returns the text to put in its place (the match itself to leave it).</summary>
    /// <param name="name">The text before the first ':'.</param>
    /// <param name="arguments">The ':'-separated parts after the name; empty when there is no ':'.</param>
    /// <param name="match">The whole <c>${...}</c>.</param>
    public delegate string Resolver(string name, IReadOnlyList<string> arguments, string match);

    // The CLI's /\$\{(.*?)\}/g: lazy, and JavaScript's '.' stops at line terminators.
    [GeneratedRegex(@"\$\{([^\n\r\u2028\u2029]*?)\}", RegexOptions.CultureInvariant)]
    private static partial Regex VariablePattern();

    /// <summary>Replaces each variable once; replacement text is not scanned again within the same pass.</summary>
    public static string Substitute(string value, Resolver resolver)
    {
        if (!value.Contains("${", StringComparison.Ordinal))
        {
            return value;
        }
        return VariablePattern().Replace(value, m =>
        {
            var parts = m.Groups[1].Value.Split(':');
            return resolver(parts[0], parts.Length > 1 ? parts[1..] : [], m.Value);
        });
    }

    /// <summary>Applies <paramref name="resolver"/> to every string value (never to property names, like the CLI).</summary>
    /// <exception cref="ConfigValueException">The resolver refused a variable; carries the string's position.</exception>
    public static JsoncNode Substitute(JsoncNode node, Resolver resolver) => node switch
    {
        JsoncString s => SubstituteString(s, resolver),
        JsoncArray a => a with { Items = a.Items.Select(i => Substitute(i, resolver)).ToArray() },
        JsoncObject o => o with
        {
            Properties = o.Properties.Select(p => p with { Value = Substitute(p.Value, resolver) }).ToArray(),
        },
        _ => node,
    };

    /// <summary>The CLI's lookupValue: the variable if set (even to ""), else the default after the second
    /// ':' (only up to a third ':', since the text is split on every ':'), else "".</summary>
    public static string LookupEnvironment(IReadOnlyDictionary<string, string> environment,
        IReadOnlyList<string> arguments, string match)
    {
        if (arguments.Count == 0)
        {
            throw new ConfigValueException(
                $"'{match}' cannot be resolved because no environment variable name is given (write {match[..^1]}:NAME}})",
                null);
        }
        if (environment.TryGetValue(arguments[0], out var value))
        {
            return value;
        }
        return arguments.Count > 1 ? arguments[1] : string.Empty;
    }

    /// <summary>Node's path.posix.basename: trailing slashes do not count.</summary>
    public static string PosixBasename(string path)
    {
        var trimmed = path.TrimEnd('/');
        var slash = trimmed.LastIndexOf('/');
        return slash < 0 ? trimmed : trimmed[(slash + 1)..];
    }

    private static JsoncString SubstituteString(JsoncString s, Resolver resolver)
    {
        try
        {
            return s with { Value = Substitute(s.Value, resolver) };
        }
        catch (ConfigValueException e) when (e.Position is null)
        {
            throw new ConfigValueException(e.Reason, s.Position);
        }
    }
}
