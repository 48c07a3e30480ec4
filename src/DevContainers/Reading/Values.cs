using System.Globalization;
using CloudDevEnv.DevContainers.Jsonc;

namespace CloudDevEnv.DevContainers.Reading;

/// <summary>Typed access to JSONC values with errors that name the property and point at it.</summary>
internal static class Values
{
    public static ConfigValueException Fail(JsoncNode node, string reason) => new(reason, node.Position);

    /// <summary>Null for an absent property or an explicit <c>null</c>: both mean "not set".</summary>
    public static JsoncNode? Get(JsoncObject obj, string name) => obj[name] is JsoncNull ? null : obj[name];

    public static string? OptionalString(JsoncObject obj, string name, string displayName)
    {
        var node = Get(obj, name);
        return node is null ? null : String(node, displayName);
    }

    public static string String(JsoncNode node, string displayName) =>
        node is JsoncString s ? s.Value : throw Fail(node, $"'{displayName}' must be a string, not {node.Kind}");

    public static bool? OptionalBoolean(JsoncObject obj, string name, string displayName)
    {
        var node = Get(obj, name);
        return node switch
        {
            null => null,
            JsoncBoolean b => b.Value,
            _ => throw Fail(node, $"'{displayName}' must be true or false, not {node.Kind}"),
        };
    }

    public static int? OptionalInteger(JsoncObject obj, string name, string displayName, int min, int max)
    {
        var node = Get(obj, name);
        return node is null ? null : Integer(node, displayName, min, max);
    }

    public static int Integer(JsoncNode node, string displayName, int min, int max)
    {
        if (node is JsoncNumber n
            && decimal.TryParse(n.Text, NumberStyles.Float, CultureInfo.InvariantCulture, out var value)
            && value == decimal.Truncate(value) && value >= min && value <= max)
        {
            return (int)value;
        }
        throw Fail(node, $"'{displayName}' must be a whole number from {min} to {max}, not {Show(node)}");
    }

    public static JsoncObject? OptionalObject(JsoncObject obj, string name, string displayName)
    {
        var node = Get(obj, name);
        return node switch
        {
            null => null,
            JsoncObject o => o,
            _ => throw Fail(node, $"'{displayName}' must be an object, not {node.Kind}"),
        };
    }

    public static JsoncArray? OptionalArray(JsoncObject obj, string name, string displayName)
    {
        var node = Get(obj, name);
        return node switch
        {
            null => null,
            JsoncArray a => a,
            _ => throw Fail(node, $"'{displayName}' must be an array, not {node.Kind}"),
        };
    }

    /// <summary>An object whose values are all strings.</summary>
    public static IReadOnlyDictionary<string, string> StringMap(JsoncObject? obj, string displayName)
    {
        var map = new Dictionary<string, string>(StringComparer.Ordinal);
        if (obj is null)
        {
            return map;
        }
        foreach (var property in obj.Properties)
        {
            map[property.Name] = String(property.Value, $"{displayName}.{property.Name}");
        }
        return map;
    }

    /// <summary>A string, or an array of strings.</summary>
    public static IReadOnlyList<string> StringOrStrings(JsoncNode? node, string displayName) => node switch
    {
        null => [],
        JsoncString s => [s.Value],
        JsoncArray a => a.Items.Select((item, i) => String(item, $"{displayName}[{i}]")).ToArray(),
        _ => throw Fail(node, $"'{displayName}' must be a string or an array of strings, not {node.Kind}"),
    };

    public static string Show(JsoncNode node) => node switch
    {
        JsoncNumber n => n.Text,
        JsoncString s => $"\"{s.Value}\"",
        _ => node.Kind,
    };
}
