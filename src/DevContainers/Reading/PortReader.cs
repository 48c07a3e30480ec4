using System.Text.Json;
using System.Text.RegularExpressions;
using CloudDevEnv.DevContainers.Jsonc;

namespace CloudDevEnv.DevContainers.Reading;

/// <summary>Reads <c>forwardPorts</c>, <c>portsAttributes</c> and <c>otherPortsAttributes</c>.</summary>
internal static partial class PortReader
{
    public static IReadOnlyList<ForwardPort> ReadForwardPorts(JsoncObject root)
    {
        var array = Values.OptionalArray(root, "forwardPorts", "forwardPorts");
        if (array is null)
        {
            return [];
        }
        var ports = new List<ForwardPort>();
        for (var i = 0; i < array.Items.Count; i++)
        {
            var item = array.Items[i];
            var display = $"forwardPorts[{i}]";
            switch (item)
            {
                case JsoncNumber:
                    ports.Add(new ForwardPort(null, Values.Integer(item, display, 0, 65535)));
                    break;
                case JsoncString s when HostPortPattern().Match(s.Value) is { Success: true } match
                    && int.TryParse(match.Groups["port"].Value, out var port) && port <= 65535:
                    ports.Add(new ForwardPort(match.Groups["host"].Success ? match.Groups["host"].Value : null, port));
                    break;
                default:
                    throw Values.Fail(item, $"'{display}' must be a port number or \"host:port\", not {Values.Show(item)}");
            }
        }
        return ports.ToArray();
    }

    public static IReadOnlyDictionary<string, PortAttributes> ReadPortsAttributes(JsoncObject root)
    {
        var map = new Dictionary<string, PortAttributes>(StringComparer.Ordinal);
        if (Values.OptionalObject(root, "portsAttributes", "portsAttributes") is { } obj)
        {
            foreach (var property in obj.Properties)
            {
                var display = $"portsAttributes.{property.Name}";
                map[property.Name] = property.Value is JsoncObject attributes
                    ? ReadPortAttributes(attributes, display)
                    : throw Values.Fail(property.Value, $"'{display}' must be an object, not {property.Value.Kind}");
            }
        }
        return map;
    }

    public static PortAttributes ReadPortAttributes(JsoncObject obj, string display)
    {
        var extra = new Dictionary<string, JsonElement>(StringComparer.Ordinal);
        foreach (var property in obj.Properties)
        {
            if (property.Name is not ("label" or "protocol" or "onAutoForward" or "requireLocalPort" or "elevateIfNeeded"))
            {
                extra[property.Name] = JsoncJson.ToElement(property.Value);
            }
        }
        return new PortAttributes(
            Values.OptionalString(obj, "label", $"{display}.label"),
            Values.OptionalString(obj, "protocol", $"{display}.protocol"),
            Values.OptionalString(obj, "onAutoForward", $"{display}.onAutoForward"),
            Values.OptionalBoolean(obj, "requireLocalPort", $"{display}.requireLocalPort"),
            Values.OptionalBoolean(obj, "elevateIfNeeded", $"{display}.elevateIfNeeded"),
            extra);
    }

    // "3000" or "host:3000"; the spec's pattern is ^([a-z0-9_-]+):(\d{1,5})$, relaxed to host names with dots.
    [GeneratedRegex(@"^(?:(?<host>[A-Za-z0-9_.-]+):)?(?<port>\d{1,5})$", RegexOptions.CultureInvariant)]
    private static partial Regex HostPortPattern();
}
