using System.Text.Json;
using CloudDevEnv.DevContainers.Jsonc;
using CloudDevEnv.DevContainers.Reading;

namespace CloudDevEnv.DevContainers.Features;

/// <summary>A feature's <c>devcontainer-feature.json</c>: what it installs with, and what it adds to the container
/// (as the spec's "Dev Container Features reference" defines it). Read from the feature's own files, which are untrusted
/// like the repository: what it asks of the container goes through the platform's policy like devcontainer.json.</summary>
public sealed record FeatureDefinition
{
    public required string Id { get; init; }

    public string? Version { get; init; }

    public string? Name { get; init; }

    /// <summary>Option id → its declaration (type, default, proposals).</summary>
    public IReadOnlyDictionary<string, FeatureOption> Options { get; init; } = new Dictionary<string, FeatureOption>(StringComparer.Ordinal);

    public IReadOnlyDictionary<string, string> ContainerEnv { get; init; } = new Dictionary<string, string>(StringComparer.Ordinal);

    /// <summary>Mounts it asks for; the policy leaves out bind mounts of host paths.</summary>
    public IReadOnlyList<DevContainerMount> Mounts { get; init; } = [];

    /// <summary>What it asks of the container (privileged, init, capAdd, securityOpt), read as devcontainer.json's.</summary>
    public RunOptions RunOptions { get; init; } = RunOptions.None;

    /// <summary>A script the feature wants run when the container starts (e.g. a daemon's).</summary>
    public string? Entrypoint { get; init; }

    public JsonElement? Customizations { get; init; }

    /// <summary>Features that must be installed before it, with their options (hard dependencies).</summary>
    public IReadOnlyDictionary<string, JsonElement> DependsOn { get; init; } = new Dictionary<string, JsonElement>(StringComparer.Ordinal);

    /// <summary>Features it installs after when they are present too (soft ordering).</summary>
    public IReadOnlyList<string> InstallsAfter { get; init; } = [];

    /// <summary>Its own lifecycle commands, which run before the configuration's.</summary>
    public IReadOnlyList<LifecycleCommand> LifecycleCommands { get; init; } = [];

    /// <summary>Settings of the feature outside the platform's policy, left out.</summary>
    public IReadOnlyList<LeftOutSetting> LeftOut { get; init; } = [];

    /// <summary>The raw JSON, for the image's metadata label.</summary>
    public required JsonElement Json { get; init; }

    /// <exception cref="DevContainerConfigException">The file is not a feature definition, or asks for what the policy
    /// refuses (strict).</exception>
    public static FeatureDefinition Parse(string text, string displayPath, DevContainerPolicy policy)
    {
        try
        {
            if (JsoncParser.Parse(text) is not JsoncObject root)
            {
                throw new ConfigValueException("devcontainer-feature.json must hold a JSON object", new JsoncPosition(1, 1));
            }

            var id = Values.OptionalString(root, "id", "id") is { Length: > 0 } named
                ? named
                : throw Values.Fail(root, "devcontainer-feature.json needs an 'id'");
            var notes = new PolicyNotes(policy);
            var options = new Dictionary<string, FeatureOption>(StringComparer.Ordinal);
            if (Values.OptionalObject(root, "options", "options") is { } declared)
            {
                foreach (var option in declared.Properties)
                {
                    if (option.Value is not JsoncObject spec)
                    {
                        throw Values.Fail(option.Value, $"options.{option.Name} must be an object");
                    }

                    options[option.Name] = new FeatureOption(
                        Values.OptionalString(spec, "type", $"options.{option.Name}.type") ?? "string",
                        Values.Get(spec, "default") is { } value ? JsoncJson.ToElement(value) : null);
                }
            }

            var dependsOn = Values.OptionalObject(root, "dependsOn", "dependsOn") is { } depends
                ? depends.Properties.ToDictionary(p => p.Name, p => JsoncJson.ToElement(p.Value), StringComparer.Ordinal)
                : new Dictionary<string, JsonElement>(StringComparer.Ordinal);
            var hooks = new[] { LifecycleHook.OnCreateCommand, LifecycleHook.UpdateContentCommand, LifecycleHook.PostCreateCommand, LifecycleHook.PostStartCommand }
                .Select(hook => LifecycleReader.Read(root, hook))
                .OfType<LifecycleCommand>()
                .ToArray();
            if (LifecycleReader.Read(root, LifecycleHook.PostAttachCommand) is not null)
            {
                notes.LeaveOut(root, "postAttachCommand", "is not run: there is no attach event to run it on");
            }

            return new FeatureDefinition
            {
                Id = id,
                Version = Values.OptionalString(root, "version", "version"),
                Name = Values.OptionalString(root, "name", "name"),
                Options = options,
                ContainerEnv = Values.StringMap(Values.OptionalObject(root, "containerEnv", "containerEnv"), "containerEnv"),
                Mounts = MountReader.Read(root, notes),
                RunOptions = RunArgsParser.Parse(null, root, notes),
                Entrypoint = Values.OptionalString(root, "entrypoint", "entrypoint"),
                Customizations = Values.Get(root, "customizations") is { } customizations ? JsoncJson.ToElement(customizations) : null,
                DependsOn = dependsOn,
                InstallsAfter = Values.OptionalArray(root, "installsAfter", "installsAfter") is { } after
                    ? [.. after.Items.Select((item, i) => Values.String(item, $"installsAfter[{i}]"))]
                    : [],
                LifecycleCommands = hooks,
                LeftOut = notes.All,
                Json = JsoncJson.ToElement(root),
            };
        }
        catch (JsoncSyntaxException e)
        {
            throw new DevContainerConfigException(displayPath, e.Reason, e.Position.Line, e.Position.Column);
        }
        catch (ConfigValueException e)
        {
            throw new DevContainerConfigException(displayPath, e.Reason, e.Position?.Line, e.Position?.Column);
        }
    }

    /// <summary>The environment the feature's install.sh reads its options from: each declared option, from the value
    /// the configuration gives or its default, under its name as the spec converts it (<c>installZsh</c> →
    /// <c>INSTALLZSH</c>, <c>node-version</c> → <c>NODE_VERSION</c>). A string value stands for the <c>version</c>
    /// option, <c>true</c> or an empty object for the defaults.</summary>
    public IReadOnlyDictionary<string, string> OptionEnvironment(JsonElement given)
    {
        var values = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var (name, option) in Options)
        {
            if (option.Default is { } fallback && Text(fallback) is { } text)
            {
                values[name] = text;
            }
        }

        switch (given.ValueKind)
        {
            case JsonValueKind.String:
                values["version"] = given.GetString()!;
                break;
            case JsonValueKind.Object:
                foreach (var property in given.EnumerateObject())
                {
                    if (Text(property.Value) is { } value)
                    {
                        values[property.Name] = value;
                    }
                }

                break;
        }

        return values.ToDictionary(kv => EnvironmentName(kv.Key), kv => kv.Value, StringComparer.Ordinal);
    }

    /// <summary>The spec's conversion of an option id to a variable name.</summary>
    public static string EnvironmentName(string optionId)
    {
        var replaced = new string([.. optionId.Select(c => char.IsAsciiLetterOrDigit(c) || c == '_' ? c : '_')]);
        var leading = 0;
        while (leading < replaced.Length && (char.IsAsciiDigit(replaced[leading]) || replaced[leading] == '_'))
        {
            leading++;
        }

        return (leading > 0 ? "_" + replaced[leading..] : replaced).ToUpperInvariant();
    }

    private static string? Text(JsonElement value) => value.ValueKind switch
    {
        JsonValueKind.String => value.GetString(),
        JsonValueKind.True => "true",
        JsonValueKind.False => "false",
        JsonValueKind.Number => value.GetRawText(),
        _ => null,
    };
}

/// <param name="Type">"string" or "boolean".</param>
public sealed record FeatureOption(string Type, JsonElement? Default);
