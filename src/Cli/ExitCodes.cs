namespace CloudDevEnv.Cli;

/// <summary>What cde's exit status means (README, "The command line").</summary>
public static class ExitCodes
{
    public const int Ok = 0;
    public const int Failure = 1;
    public const int Usage = 2;
    public const int NotFound = 3;
    public const int Auth = 4;
}

/// <summary>A command that cannot go on: its one line for the user, and the exit status.</summary>
public sealed class CliException(int exitCode, string message) : Exception(message)
{
    public int ExitCode { get; } = exitCode;
}
