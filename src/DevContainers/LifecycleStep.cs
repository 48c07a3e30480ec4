namespace CloudDevEnv.DevContainers;

/// <summary>One process to start for a lifecycle command.</summary>
/// <param name="Name">The key in the object (parallel) form, else null.</param>
/// <param name="Script">The shell text for a string command, else null.</param>
/// <param name="Argv">What to exec: <c>["/bin/sh", "-c", Script]</c> for a string, the array as is otherwise.</param>
public sealed record LifecycleStep(string? Name, string? Script, IReadOnlyList<string> Argv)
{
    public static LifecycleStep FromScript(string? name, string script) => new(name, script, ["/bin/sh", "-c", script]);

    public static LifecycleStep FromArgv(string? name, IReadOnlyList<string> argv) => new(name, null, argv);
}
