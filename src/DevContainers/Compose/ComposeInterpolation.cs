using System.Text;
using System.Text.Json.Nodes;

namespace CloudDevEnv.DevContainers.Compose;

/// <summary>Compose's variable interpolation in values (never keys): <c>$VAR</c>, <c>${VAR}</c>, <c>${VAR:-default}</c>,
/// <c>${VAR-default}</c>, <c>${VAR:?message}</c>, <c>${VAR?message}</c>, <c>${VAR:+other}</c>, <c>${VAR+other}</c>,
/// <c>$$</c> for a dollar. The variables are the project's <c>.env</c> file only: the platform's own environment is
/// not the repository's to read, so a variable set nowhere else is unset (and named).</summary>
internal sealed class ComposeInterpolation(IReadOnlyDictionary<string, string> variables, string file)
{
    public HashSet<string> Unset { get; } = new(StringComparer.Ordinal);

    public void Apply(JsonNode? node)
    {
        switch (node)
        {
            case JsonObject obj:
                foreach (var key in obj.Select(p => p.Key).ToList())
                {
                    if (obj[key] is JsonValue value && value.TryGetValue<string>(out var text))
                    {
                        obj[key] = Interpolate(text);
                    }
                    else
                    {
                        Apply(obj[key]);
                    }
                }

                break;
            case JsonArray array:
                for (var i = 0; i < array.Count; i++)
                {
                    if (array[i] is JsonValue value && value.TryGetValue<string>(out var text))
                    {
                        array[i] = Interpolate(text);
                    }
                    else
                    {
                        Apply(array[i]);
                    }
                }

                break;
        }
    }

    public string Interpolate(string text)
    {
        if (!text.Contains('$', StringComparison.Ordinal))
        {
            return text;
        }

        var result = new StringBuilder(text.Length);
        for (var i = 0; i < text.Length; i++)
        {
            if (text[i] != '$' || i + 1 == text.Length)
            {
                result.Append(text[i]);
                continue;
            }

            var next = text[i + 1];
            if (next == '$')
            {
                result.Append('$');
                i++;
            }
            else if (next == '{')
            {
                var end = ClosingBrace(text, i + 2);
                if (end < 0)
                {
                    throw new ComposeFileException(file, $"'{text}' has a '${{' without its '}}'");
                }

                result.Append(Expression(text[(i + 2)..end], text));
                i = end;
            }
            else if (char.IsAsciiLetter(next) || next == '_')
            {
                var end = i + 1;
                while (end < text.Length && (char.IsAsciiLetterOrDigit(text[end]) || text[end] == '_'))
                {
                    end++;
                }

                result.Append(Lookup(text[(i + 1)..end]) ?? string.Empty);
                i = end - 1;
            }
            else
            {
                result.Append('$');
            }
        }

        return result.ToString();
    }

    /// <summary>The brace that closes the one opened before <paramref name="start"/>; nested <c>${...}</c> in a default count.</summary>
    private static int ClosingBrace(string text, int start)
    {
        var depth = 1;
        for (var i = start; i < text.Length; i++)
        {
            if (text[i] == '{')
            {
                depth++;
            }
            else if (text[i] == '}' && --depth == 0)
            {
                return i;
            }
        }

        return -1;
    }

    private string Expression(string expression, string text)
    {
        var name = new string([.. expression.TakeWhile(c => char.IsAsciiLetterOrDigit(c) || c == '_')]);
        if (name.Length == 0)
        {
            throw new ComposeFileException(file, $"'{text}' has an invalid variable '${{{expression}}}'");
        }

        var rest = expression[name.Length..];
        var value = Lookup(name, noteUnset: rest.Length == 0);
        var colon = rest.StartsWith(':');
        var op = rest.Length == 0 ? '\0' : colon ? (rest.Length > 1 ? rest[1] : '\0') : rest[0];
        var argument = rest.Length == 0 ? string.Empty : rest[(colon ? 2 : 1)..];
        var missing = colon ? string.IsNullOrEmpty(value) : value is null;
        return op switch
        {
            '\0' when rest.Length == 0 => value ?? string.Empty,
            '-' => missing ? Interpolate(argument) : value!,
            '+' => missing ? string.Empty : Interpolate(argument),
            '?' when missing => throw new ComposeFileException(file, $"the variable {name} must be set{(argument.Length > 0 ? ": " + Interpolate(argument) : string.Empty)} (from the project's .env file)"),
            '?' => value!,
            _ => throw new ComposeFileException(file, $"'{text}' has an invalid variable '${{{expression}}}'"),
        };
    }

    private string? Lookup(string name, bool noteUnset = true)
    {
        if (variables.TryGetValue(name, out var value))
        {
            return value;
        }

        if (noteUnset)
        {
            Unset.Add(name);
        }

        return null;
    }

    /// <summary>A <c>.env</c> file as Compose reads it: <c>NAME=value</c> lines, <c>#</c> comments, optional
    /// <c>export</c>, single quotes literal, double quotes with <c>\n</c> escapes.</summary>
    public static Dictionary<string, string> ReadEnvFile(string text)
    {
        var variables = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var raw in text.Split('\n'))
        {
            var line = raw.TrimEnd('\r').Trim();
            if (line.Length == 0 || line.StartsWith('#'))
            {
                continue;
            }

            if (line.StartsWith("export ", StringComparison.Ordinal))
            {
                line = line[7..].TrimStart();
            }

            var equals = line.IndexOf('=', StringComparison.Ordinal);
            if (equals <= 0)
            {
                continue;
            }

            var name = line[..equals].Trim();
            var value = line[(equals + 1)..].Trim();
            if (value.Length >= 2 && value[0] == '\'' && value[^1] == '\'')
            {
                value = value[1..^1];
            }
            else if (value.Length >= 2 && value[0] == '"' && value[^1] == '"')
            {
                value = value[1..^1].Replace("\\n", "\n", StringComparison.Ordinal).Replace("\\\"", "\"", StringComparison.Ordinal);
            }
            else if (value.IndexOf(" #", StringComparison.Ordinal) is var comment and >= 0)
            {
                value = value[..comment].TrimEnd();
            }

            variables[name] = value;
        }

        return variables;
    }
}
