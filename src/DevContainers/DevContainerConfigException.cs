namespace CloudDevEnv.DevContainers;

/// <summary>A devcontainer.json that cannot be used: malformed JSONC, a value of the wrong type, a
/// variable that cannot be resolved, or a setting CloudDevEnv refuses (e.g. <c>--privileged</c>).
/// The message is meant for the repository's author and reads like a compiler error:
/// <c>.devcontainer/devcontainer.json:3:5: expected ',' or '}' after a property value</c>.</summary>
public sealed class DevContainerConfigException : Exception
{
    public DevContainerConfigException(string path, string reason, int? line = null, int? column = null,
        string? displayPath = null, Exception? innerException = null)
        : base(Format(displayPath ?? path, reason, line, column), innerException)
    {
        Path = path;
        Reason = reason;
        Line = line;
        Column = column;
    }

    /// <summary>The full path of the devcontainer.json (or of the folder searched when none fits).</summary>
    public string Path { get; }

    /// <summary>What is wrong, without the location.</summary>
    public string Reason { get; }

    /// <summary>1-based line of the offending text, when the problem has a place in the file.</summary>
    public int? Line { get; }

    /// <summary>1-based column (UTF-16 code units, as editors count) of the offending text.</summary>
    public int? Column { get; }

    private static string Format(string path, string reason, int? line, int? column) =>
        line is { } l ? $"{path}:{l}:{column ?? 1}: {reason}" : $"{path}: {reason}";
}
