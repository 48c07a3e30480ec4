using System.Text.Json.Nodes;

namespace CloudDevEnv.DevContainers.Compose;

/// <summary>How Compose merges a later file (or an <c>extends</c>) over an earlier one: mappings key by key, the
/// environment, labels and extra hosts as mappings, volumes by their target, lists of values joined, command,
/// entrypoint and a healthcheck's test replaced.</summary>
internal static class ComposeMerge
{
    private static readonly HashSet<string> Replaced = new(StringComparer.Ordinal) { "command", "entrypoint", "test" };

    private static readonly HashSet<string> Mappings = new(StringComparer.Ordinal) { "environment", "labels", "extra_hosts", "depends_on", "args" };

    private static readonly HashSet<string> Joined = new(StringComparer.Ordinal)
    {
        "ports", "expose", "dns", "dns_search", "tmpfs", "cap_add", "cap_drop", "security_opt", "env_file", "profiles", "devices", "external_links", "links",
    };

    /// <summary>Merges <paramref name="over"/> into <paramref name="into"/> (the top level of a compose file).</summary>
    public static void Project(JsonObject into, JsonObject over)
    {
        foreach (var (key, value) in over)
        {
            if (key == "services" && into[key] is JsonObject services && value is JsonObject overServices)
            {
                foreach (var (name, service) in overServices)
                {
                    services[name] = services[name] is JsonObject existing && service is JsonObject overService
                        ? Service(existing, overService)
                        : service?.DeepClone();
                }
            }
            else if (into[key] is JsonObject existing && value is JsonObject overObject)
            {
                foreach (var (name, item) in overObject)
                {
                    existing[name] = item?.DeepClone();
                }
            }
            else
            {
                into[key] = value?.DeepClone();
            }
        }
    }

    /// <summary>A new service: <paramref name="over"/> merged over a copy of <paramref name="base"/>.</summary>
    public static JsonObject Service(JsonObject @base, JsonObject over)
    {
        var result = (JsonObject)@base.DeepClone();
        foreach (var (key, value) in over)
        {
            result[key] = Value(key, result[key], value);
        }

        return result;
    }

    private static JsonNode? Value(string key, JsonNode? existing, JsonNode? over)
    {
        if (existing is null || over is null || Replaced.Contains(key))
        {
            return over?.DeepClone();
        }

        if (Mappings.Contains(key))
        {
            var merged = AsMapping(existing);
            foreach (var (name, value) in AsMapping(over))
            {
                merged[name] = value?.DeepClone();
            }

            return merged;
        }

        if (key == "volumes" && existing is JsonArray volumes && over is JsonArray overVolumes)
        {
            var byTarget = new List<JsonNode?>(volumes.Select(v => v?.DeepClone()));
            foreach (var volume in overVolumes)
            {
                var target = VolumeTarget(volume);
                var at = byTarget.FindIndex(v => target is not null && VolumeTarget(v) == target);
                if (at >= 0)
                {
                    byTarget[at] = volume?.DeepClone();
                }
                else
                {
                    byTarget.Add(volume?.DeepClone());
                }
            }

            return new JsonArray([.. byTarget]);
        }

        if (Joined.Contains(key) && existing is JsonArray first && over is JsonArray second)
        {
            var joined = new JsonArray([.. first.Select(v => v?.DeepClone())]);
            foreach (var item in second.Where(item => !first.Any(f => JsonNode.DeepEquals(f, item))))
            {
                joined.Add(item?.DeepClone());
            }

            return joined;
        }

        if (existing is JsonObject objects && over is JsonObject overObject)
        {
            var merged = (JsonObject)objects.DeepClone();
            foreach (var (name, value) in overObject)
            {
                merged[name] = Value(name, merged[name], value);
            }

            return merged;
        }

        return over.DeepClone();
    }

    /// <summary>A list of <c>NAME=value</c> (or <c>host:ip</c>, or service names) as a mapping.</summary>
    public static JsonObject AsMapping(JsonNode? node)
    {
        if (node is JsonObject obj)
        {
            return (JsonObject)obj.DeepClone();
        }

        var mapping = new JsonObject();
        foreach (var item in node as JsonArray ?? [])
        {
            var text = item?.ToString() ?? string.Empty;
            var separator = text.IndexOfAny(['=', ':']);
            if (separator < 0)
            {
                mapping[text] = null;
            }
            else
            {
                mapping[text[..separator]] = text[(separator + 1)..];
            }
        }

        return mapping;
    }

    private static string? VolumeTarget(JsonNode? volume) => volume switch
    {
        JsonObject obj => obj["target"]?.ToString(),
        JsonValue value when value.ToString().Split(':') is { Length: >= 2 } parts => parts[1],
        JsonValue value => value.ToString(),
        _ => null,
    };
}
