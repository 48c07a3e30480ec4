using CloudDevEnv.DevContainers.Jsonc;

namespace CloudDevEnv.DevContainers.Reading;

/// <summary>Reads the three forms of a lifecycle command property.</summary>
internal static class LifecycleReader
{
    public static LifecycleCommand? Read(JsoncObject root, LifecycleHook hook)
    {
        var name = PropertyName(hook);
        var node = Values.Get(root, name);
        switch (node)
        {
            case null:
                return null;
            case JsoncString or JsoncArray:
                return ReadStep(node, null, name) is { } step
                    ? new LifecycleCommand(hook, node is JsoncString ? LifecycleCommandForm.Shell : LifecycleCommandForm.Exec, [step])
                    : null;
            case JsoncObject obj:
                {
                    var steps = new List<LifecycleStep>();
                    foreach (var property in obj.Properties)
                    {
                        if (property.Value is JsoncNull)
                        {
                            continue;
                        }
                        if (ReadStep(property.Value, property.Name, $"{name}.{property.Name}") is { } named)
                        {
                            steps.Add(named);
                        }
                    }
                    return steps.Count > 0 ? new LifecycleCommand(hook, LifecycleCommandForm.Parallel, steps.ToArray()) : null;
                }
            default:
                throw Values.Fail(node, $"'{name}' must be a string, an array of strings, or an object of named commands, not {node.Kind}");
        }
    }

    public static string PropertyName(LifecycleHook hook) => hook switch
    {
        LifecycleHook.InitializeCommand => "initializeCommand",
        LifecycleHook.OnCreateCommand => "onCreateCommand",
        LifecycleHook.UpdateContentCommand => "updateContentCommand",
        LifecycleHook.PostCreateCommand => "postCreateCommand",
        LifecycleHook.PostStartCommand => "postStartCommand",
        LifecycleHook.PostAttachCommand => "postAttachCommand",
        _ => throw new ArgumentOutOfRangeException(nameof(hook), hook, null),
    };

    // Blank strings and empty arrays are skipped, as the reference CLI skips them.
    private static LifecycleStep? ReadStep(JsoncNode node, string? stepName, string displayName)
    {
        switch (node)
        {
            case JsoncString s:
                return string.IsNullOrWhiteSpace(s.Value) ? null : LifecycleStep.FromScript(stepName, s.Value);
            case JsoncArray a:
                {
                    var argv = a.Items.Select((item, i) => Values.String(item, $"{displayName}[{i}]")).ToArray();
                    return argv.Length == 0 ? null : LifecycleStep.FromArgv(stepName, argv);
                }
            default:
                throw Values.Fail(node, $"'{displayName}' must be a string or an array of strings, not {node.Kind}");
        }
    }
}
