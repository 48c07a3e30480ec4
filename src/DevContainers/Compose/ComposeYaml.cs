using System.Globalization;
using System.Text.Json.Nodes;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace CloudDevEnv.DevContainers.Compose;

/// <summary>A compose file's YAML as JSON nodes, as Compose reads it: plain scalars typed (null, booleans, numbers),
/// anchors and aliases followed, merge keys (<c>&lt;&lt;: *defaults</c>) applied with the mapping's own keys winning.
/// The file is the repository's, so the nodes produced (aliases counted each time they are followed) and the depth
/// are bounded: an alias bomb is refused, not expanded.</summary>
internal static class ComposeYaml
{
    public const int MaxNodes = 50_000;

    private const int MaxDepth = 64;

    public static JsonObject Parse(string text, string file)
    {
        var stream = new YamlStream();
        try
        {
            stream.Load(new StringReader(text));
        }
        catch (YamlException e)
        {
            throw new ComposeFileException(file, $"line {e.Start.Line}: {e.Message}");
        }

        if (stream.Documents.Count == 0)
        {
            return [];
        }

        var budget = MaxNodes;
        return Convert(stream.Documents[0].RootNode, file, ref budget, 0) switch
        {
            JsonObject root => root,
            null => [],
            _ => throw new ComposeFileException(file, "a compose file is a mapping (services: ...)"),
        };
    }

    private static JsonNode? Convert(YamlNode node, string file, ref int budget, int depth)
    {
        if (--budget < 0)
        {
            throw new ComposeFileException(file, $"it holds more than {MaxNodes} values once its aliases are followed");
        }

        if (depth > MaxDepth)
        {
            throw new ComposeFileException(file, $"it nests deeper than {MaxDepth} levels");
        }

        switch (node)
        {
            case YamlScalarNode scalar:
                return Scalar(scalar);
            case YamlSequenceNode sequence:
                var array = new JsonArray();
                foreach (var item in sequence.Children)
                {
                    array.Add(Convert(item, file, ref budget, depth + 1));
                }

                return array;
            case YamlMappingNode mapping:
                var result = new JsonObject();
                var merged = new List<JsonObject>();
                foreach (var (keyNode, valueNode) in mapping.Children)
                {
                    var key = keyNode is YamlScalarNode { Value: { } k } ? k : throw new ComposeFileException(file, $"line {keyNode.Start.Line}: a key must be a plain value");
                    if (key == "<<" && keyNode is YamlScalarNode { Style: ScalarStyle.Plain })
                    {
                        var value = Convert(valueNode, file, ref budget, depth + 1);
                        merged.AddRange(value switch
                        {
                            JsonObject one => [one],
                            JsonArray many when many.All(m => m is JsonObject) => many.Cast<JsonObject>(),
                            _ => throw new ComposeFileException(file, $"line {valueNode.Start.Line}: a merge key (<<) takes a mapping or a list of mappings"),
                        });
                        continue;
                    }

                    result[key] = Convert(valueNode, file, ref budget, depth + 1);
                }

                // The mapping's own keys win, then the merged mappings in the order listed.
                foreach (var source in merged)
                {
                    foreach (var (key, value) in source)
                    {
                        if (!result.ContainsKey(key))
                        {
                            result[key] = value?.DeepClone();
                        }
                    }
                }

                return result;
            default:
                throw new ComposeFileException(file, $"line {node.Start.Line}: unexpected YAML node");
        }
    }

    private static JsonNode? Scalar(YamlScalarNode scalar)
    {
        var text = scalar.Value ?? string.Empty;
        if (scalar.Style != ScalarStyle.Plain || (scalar.Tag.IsGlobal && scalar.Tag.Value == "tag:yaml.org,2002:str"))
        {
            return JsonValue.Create(text);
        }

        switch (text)
        {
            case "" or "~" or "null" or "Null" or "NULL":
                return null;
            case "true" or "True" or "TRUE":
                return JsonValue.Create(true);
            case "false" or "False" or "FALSE":
                return JsonValue.Create(false);
        }

        if (long.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var integer))
        {
            return JsonValue.Create(integer);
        }

        if (text.Any(char.IsDigit) && double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var number) && !double.IsInfinity(number))
        {
            return JsonValue.Create(number);
        }

        return JsonValue.Create(text);
    }
}
