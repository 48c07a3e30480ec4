using CloudDevEnv.DevContainers.Jsonc;

namespace CloudDevEnv.DevContainers.Reading;

/// <summary>Reads <c>hostRequirements</c>.</summary>
internal static class HostRequirementsReader
{
    public static HostRequirements? Read(JsoncObject root)
    {
        var obj = Values.OptionalObject(root, "hostRequirements", "hostRequirements");
        if (obj is null)
        {
            return null;
        }
        var memory = Values.OptionalString(obj, "memory", "hostRequirements.memory");
        var storage = Values.OptionalString(obj, "storage", "hostRequirements.storage");
        return new HostRequirements(
            Values.OptionalInteger(obj, "cpus", "hostRequirements.cpus", 1, 1 << 16),
            memory,
            memory is null ? null : RequirementSize(obj, "memory", memory),
            storage,
            storage is null ? null : RequirementSize(obj, "storage", storage),
            ReadGpu(obj));
    }

    private static GpuRequirement? ReadGpu(JsoncObject hostRequirements)
    {
        var node = Values.Get(hostRequirements, "gpu");
        switch (node)
        {
            case null or JsoncBoolean { Value: false }:
                return null;
            case JsoncBoolean:
                return new GpuRequirement(false, null, null, null);
            case JsoncString { Value: "optional" }:
                return new GpuRequirement(true, null, null, null);
            case JsoncObject gpu:
                {
                    var memory = Values.OptionalString(gpu, "memory", "hostRequirements.gpu.memory");
                    return new GpuRequirement(
                        false,
                        Values.OptionalInteger(gpu, "cores", "hostRequirements.gpu.cores", 1, 1 << 20),
                        memory,
                        memory is null ? null : RequirementSize(gpu, "memory", memory));
                }
            default:
                throw Values.Fail(node, $"'hostRequirements.gpu' must be true, false, \"optional\" or an object, not {Values.Show(node)}");
        }
    }

    private static long RequirementSize(JsoncObject obj, string name, string text) =>
        Sizes.ParseRequirement(text)
        ?? throw Values.Fail(Values.Get(obj, name)!, $"'{name}' must be a whole number with an optional unit kb, mb, gb or tb (e.g. \"8gb\"), not \"{text}\"");
}
