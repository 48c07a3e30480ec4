namespace CloudDevEnv.DevContainers.Jsonc;

/// <summary>Raised by <see cref="JsoncParser"/>; the loader adds the file path and rethrows it as a
/// <see cref="DevContainerConfigException"/>.</summary>
internal sealed class JsoncSyntaxException(string reason, JsoncPosition position) : Exception(reason)
{
    public string Reason { get; } = reason;

    public JsoncPosition Position { get; } = position;
}
