using CloudDevEnv.DevContainers.Jsonc;

namespace CloudDevEnv.DevContainers.Reading;

/// <summary>Reads <c>mounts</c> in string and object form and applies <see cref="MountPolicy"/>: a mount outside it
/// is refused or left out (<see cref="PolicyNotes"/>).</summary>
internal static class MountReader
{
    public static IReadOnlyList<DevContainerMount> Read(JsoncObject root, PolicyNotes notes)
    {
        var array = Values.OptionalArray(root, "mounts", "mounts");
        if (array is null)
        {
            return [];
        }
        var mounts = new List<DevContainerMount>();
        for (var i = 0; i < array.Items.Count; i++)
        {
            var item = array.Items[i];
            var display = $"mounts[{i}]";
            DevContainerMount mount;
            try
            {
                mount = item switch
                {
                    JsoncString s => DevContainerMount.Parse(s.Value),
                    JsoncObject o => new DevContainerMount(
                        DevContainerMount.ParseType(Values.OptionalString(o, "type", $"{display}.type")
                            ?? throw Values.Fail(o, $"'{display}' needs a type (volume or tmpfs)")),
                        Values.OptionalString(o, "source", $"{display}.source") is { Length: > 0 } source ? source : null,
                        Values.OptionalString(o, "target", $"{display}.target") is { Length: > 0 } target
                            ? target
                            : throw Values.Fail(o, $"'{display}' needs a target"),
                        false,
                        []),
                    _ => throw Values.Fail(item, $"'{display}' must be a string or an object, not {item.Kind}"),
                };
            }
            catch (FormatException e)
            {
                throw Values.Fail(item, $"'{display}': {e.Message}");
            }
            if (MountPolicy.Check(mount) is { } why)
            {
                notes.LeaveOut(item, $"'{display}'", $"is not allowed: {why}");
                continue;
            }
            mounts.Add(mount);
        }
        return mounts.ToArray();
    }
}
