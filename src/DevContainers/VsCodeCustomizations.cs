using System.Text.Json;
using System.Text.Json.Nodes;

namespace CloudDevEnv.DevContainers;

/// <summary><c>customizations.vscode</c>, merged from every place that declares it, as the spec merges image metadata:
/// extensions are the union (in order of first mention), settings are merged with later places winning (the image's
/// label first, then the features in install order, then devcontainer.json).</summary>
/// <param name="Settings">The merged settings object as JSON (<c>{}</c> when none).</param>
/// <param name="Extensions">Extension ids, <c>publisher.name</c> or <c>publisher.name@version</c>, lower-case.</param>
public sealed record VsCodeCustomizations(string Settings, IReadOnlyList<string> Extensions)
{
    public static VsCodeCustomizations None { get; } = new("{}", []);

    /// <param name="customizations">Each place's <c>customizations</c> object (or null), in the order they apply.</param>
    public static VsCodeCustomizations Merge(IEnumerable<JsonElement?> customizations)
    {
        var settings = new JsonObject();
        var extensions = new List<string>();
        foreach (var element in customizations)
        {
            if (element is not { ValueKind: JsonValueKind.Object } value || !value.TryGetProperty("vscode", out var vscode) || vscode.ValueKind != JsonValueKind.Object)
            {
                continue;
            }

            if (vscode.TryGetProperty("settings", out var given) && given.ValueKind == JsonValueKind.Object)
            {
                foreach (var setting in given.EnumerateObject())
                {
                    settings[setting.Name] = JsonNode.Parse(setting.Value.GetRawText());
                }
            }

            if (vscode.TryGetProperty("extensions", out var list) && list.ValueKind == JsonValueKind.Array)
            {
                foreach (var id in list.EnumerateArray().Where(e => e.ValueKind == JsonValueKind.String).Select(e => e.GetString()!.Trim().ToLowerInvariant()))
                {
                    // "-publisher.name" removes an extension an earlier place added, as VS Code reads the list.
                    if (id.StartsWith('-'))
                    {
                        extensions.RemoveAll(e => e.Split('@')[0] == id[1..]);
                    }
                    else if (id.Length > 0 && !extensions.Any(e => e.Split('@')[0] == id.Split('@')[0]))
                    {
                        extensions.Add(id);
                    }
                }
            }
        }

        return new VsCodeCustomizations(settings.ToJsonString(), extensions);
    }

    /// <summary>The customizations in an image's <c>devcontainer.metadata</c> label (an array, or one object).</summary>
    public static IEnumerable<JsonElement?> FromMetadataLabel(string? label)
    {
        if (string.IsNullOrWhiteSpace(label))
        {
            yield break;
        }

        JsonElement root;
        try
        {
            root = JsonDocument.Parse(label).RootElement;
        }
        catch (JsonException)
        {
            yield break;
        }

        foreach (var entry in root.ValueKind == JsonValueKind.Array ? root.EnumerateArray().ToArray() : [root])
        {
            if (entry.ValueKind == JsonValueKind.Object && entry.TryGetProperty("customizations", out var customizations))
            {
                yield return customizations;
            }
        }
    }
}
