using System.Text;

namespace CloudDevEnv.DevContainers;

/// <summary>An entry of <c>mounts</c> (string or object form) or a volume from <c>runArgs</c>.</summary>
/// <param name="Source">A volume name (null for an anonymous volume or tmpfs), or a host path for a bind.
/// Volume names are global on a Docker engine: the runtime must scope them per workspace or owner
/// (configurations often use <c>${devcontainerId}</c> in them for that reason).</param>
/// <param name="Target">The path inside the container.</param>
/// <param name="Options">The other <c>--mount</c> fields as written (<c>key=value</c> or <c>key</c>), e.g.
/// <c>tmpfs-size=64m</c>, <c>volume-nocopy</c>, <c>consistency=cached</c>.</param>
public sealed record DevContainerMount(
    DevContainerMountType Type,
    string? Source,
    string Target,
    bool ReadOnly,
    IReadOnlyList<string> Options)
{
    /// <summary>Parses Docker's <c>--mount</c> syntax: comma-separated <c>key=value</c> fields, each field
    /// optionally in double quotes (so a value may hold a comma); <c>src</c>, <c>dst</c> and
    /// <c>destination</c> are aliases; the type defaults to <c>volume</c> as in Docker.</summary>
    /// <exception cref="FormatException">The text is not valid <c>--mount</c> syntax.</exception>
    public static DevContainerMount Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var type = DevContainerMountType.Volume;
        string? source = null;
        string? target = null;
        var readOnly = false;
        var options = new List<string>();
        foreach (var field in SplitFields(text))
        {
            var equals = field.IndexOf('=');
            var key = (equals < 0 ? field : field[..equals]).Trim().ToLowerInvariant();
            var value = equals < 0 ? null : field[(equals + 1)..];
            switch (key)
            {
                case "type":
                    type = ParseType(value ?? string.Empty);
                    break;
                case "source" or "src":
                    source = value;
                    break;
                case "target" or "dst" or "destination":
                    target = value;
                    break;
                case "readonly" or "ro":
                    readOnly = value is null || ParseBoolean(value, key);
                    break;
                case "":
                    throw new FormatException($"empty field in mount '{text}'");
                default:
                    options.Add(field);
                    break;
            }
        }
        if (string.IsNullOrEmpty(target))
        {
            throw new FormatException($"mount '{text}' has no target (write target=/path/in/container)");
        }
        return new DevContainerMount(type, string.IsNullOrEmpty(source) ? null : source, target, readOnly, options.ToArray());
    }

    /// <exception cref="FormatException">Not one of bind, volume, tmpfs.</exception>
    public static DevContainerMountType ParseType(string type) => type.Trim().ToLowerInvariant() switch
    {
        "bind" => DevContainerMountType.Bind,
        "volume" => DevContainerMountType.Volume,
        "tmpfs" => DevContainerMountType.Tmpfs,
        _ => throw new FormatException($"mount type '{type}' is not supported (use volume or tmpfs)"),
    };

    /// <summary>Back to <c>--mount</c> syntax, quoting fields that hold a comma or a quote.</summary>
    public string ToMountArgument()
    {
        var fields = new List<string> { "type=" + Type.ToString().ToLowerInvariant() };
        if (Source is not null)
        {
            fields.Add("source=" + Source);
        }
        fields.Add("target=" + Target);
        if (ReadOnly)
        {
            fields.Add("readonly");
        }
        fields.AddRange(Options);
        return string.Join(',', fields.Select(Quote));
    }

    private static bool ParseBoolean(string value, string key) => value.Trim().ToLowerInvariant() switch
    {
        "true" or "1" => true,
        "false" or "0" => false,
        _ => throw new FormatException($"'{key}' takes true or false, not '{value}'"),
    };

    // Docker reads --mount with a CSV reader: a field wrapped in double quotes may hold commas, and a
    // doubled quote inside it stands for one quote. The CLI itself writes such fields for paths with commas.
    private static IEnumerable<string> SplitFields(string text)
    {
        var field = new StringBuilder();
        var quoted = false;
        var atFieldStart = true;
        for (var i = 0; i < text.Length; i++)
        {
            var c = text[i];
            if (quoted)
            {
                if (c == '"' && i + 1 < text.Length && text[i + 1] == '"')
                {
                    field.Append('"');
                    i++;
                }
                else if (c == '"')
                {
                    quoted = false;
                }
                else
                {
                    field.Append(c);
                }
            }
            else if (c == '"' && atFieldStart)
            {
                quoted = true;
                atFieldStart = false;
            }
            else if (c == ',')
            {
                yield return field.ToString();
                field.Clear();
                atFieldStart = true;
            }
            else
            {
                field.Append(c);
                atFieldStart = false;
            }
        }
        if (quoted)
        {
            throw new FormatException($"unterminated quote in mount '{text}'");
        }
        yield return field.ToString();
    }

    private static string Quote(string field) =>
        field.Contains(',') || field.Contains('"') ? "\"" + field.Replace("\"", "\"\"") + "\"" : field;
}
