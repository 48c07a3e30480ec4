using CloudDevEnv.DevContainers.Jsonc;

namespace CloudDevEnv.DevContainers.Reading;

/// <summary>A well-formed value that cannot be used; carries the value's place in the file so that the
/// loader can report it like a syntax error.</summary>
internal sealed class ConfigValueException(string reason, JsoncPosition? position) : Exception(reason)
{
    public string Reason { get; } = reason;

    public JsoncPosition? Position { get; } = position;
}
