namespace CloudDevEnv.DevContainers;

/// <summary>How a lifecycle command was written.</summary>
public enum LifecycleCommandForm
{
    /// <summary>A string, run by <c>/bin/sh -c</c>.</summary>
    Shell = 0,

    /// <summary>An array, run as argv without a shell.</summary>
    Exec = 1,

    /// <summary>An object of named commands (each a string or an array) run in parallel; the hook is done
    /// when all are, and fails if any fails.</summary>
    Parallel = 2,
}
