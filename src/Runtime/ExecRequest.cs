namespace CloudDevEnv.Runtime;

/// <param name="Command">argv; use ["/bin/sh", "-c", script] for shell syntax.</param>
/// <param name="Detached">Start the command and return without waiting (for long-lived servers such as the IDE).</param>
public sealed record ExecRequest(
    IReadOnlyList<string> Command,
    IReadOnlyDictionary<string, string>? Environment = null,
    string? WorkingDirectory = null,
    string? User = null,
    bool Detached = false);

/// <param name="OutputTail">The last lines of combined stdout and stderr, for failure reasons.</param>
public sealed record ExecResult(int ExitCode, string OutputTail);
