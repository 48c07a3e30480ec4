using CloudDevEnv.DevContainers.Jsonc;

namespace CloudDevEnv.DevContainers.Reading;

/// <summary>Moves the pre-"customizations" top-level <c>extensions</c>, <c>settings</c> and <c>devPort</c> into
/// <c>customizations.vscode</c>, as the reference CLI does before anything else (updateFromOldProperties in
/// src/spec-configuration/configuration.ts, after microsoft/dev-container-spec#1), so that callers reading
/// customizations see them where current files put them.</summary>
internal static class LegacyProperties
{
    public static JsoncObject Update(JsoncObject root)
    {
        var extensions = root["extensions"];
        var settings = root["settings"];
        var devPort = root["devPort"];
        if (!IsTruthy(extensions) && !IsTruthy(settings) && devPort is null)
        {
            return root;
        }
        var customizations = root["customizations"] as JsoncObject ?? new JsoncObject([], root.Position);
        var vscode = customizations["vscode"] as JsoncObject ?? new JsoncObject([], customizations.Position);
        var removed = new HashSet<string>(StringComparer.Ordinal);

        if (IsTruthy(extensions))
        {
            // [].concat(x): the elements of an array, or x itself.
            var existing = vscode["extensions"] is JsoncArray a ? a.Items : [];
            var added = extensions is JsoncArray b ? b.Items : [extensions!];
            vscode = Set(vscode, "extensions", new JsoncArray([.. existing, .. added], extensions!.Position));
            removed.Add("extensions");
        }
        if (IsTruthy(settings))
        {
            // { ...settings, ...vscode.settings }: the newer place wins on conflicts.
            var merged = settings is JsoncObject s ? s : new JsoncObject([], settings!.Position);
            if (vscode["settings"] is JsoncObject current)
            {
                foreach (var property in current.Properties)
                {
                    merged = Set(merged, property.Name, property.Value);
                }
            }
            vscode = Set(vscode, "settings", merged);
            removed.Add("settings");
        }
        if (devPort is not null && vscode["devPort"] is null)
        {
            vscode = Set(vscode, "devPort", devPort);
            removed.Add("devPort");
        }

        customizations = Set(customizations, "vscode", vscode);
        var updated = new JsoncObject(root.Properties.Where(p => !removed.Contains(p.Name)).ToArray(), root.Position);
        return Set(updated, "customizations", customizations);
    }

    // JavaScript truthiness for JSON values.
    private static bool IsTruthy(JsoncNode? node) => node switch
    {
        null or JsoncNull => false,
        JsoncBoolean b => b.Value,
        JsoncString s => s.Value.Length > 0,
        JsoncNumber n => !double.TryParse(n.Text, System.Globalization.CultureInfo.InvariantCulture, out var d) || d != 0,
        _ => true,
    };

    private static JsoncObject Set(JsoncObject obj, string name, JsoncNode value)
    {
        var properties = obj.Properties.ToList();
        var index = properties.FindIndex(p => p.Name == name);
        var property = new JsoncProperty(name, value.Position, value);
        if (index >= 0)
        {
            properties[index] = property;
        }
        else
        {
            properties.Add(property);
        }
        return obj with { Properties = properties.ToArray() };
    }
}
