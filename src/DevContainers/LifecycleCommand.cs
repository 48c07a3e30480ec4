namespace CloudDevEnv.DevContainers;

/// <summary>A lifecycle command, ready to exec. In-container hooks run as the remote user in the workspace
/// folder with <c>remoteEnv</c> applied, as the reference CLI does. Steps of a <see cref="LifecycleCommandForm.Parallel"/>
/// command run at the same time; the other forms have exactly one step. Empty commands (a blank string,
/// an empty array or object, and blank entries of an object) are dropped like the CLI skips them, so a
/// command has at least one step.</summary>
public sealed record LifecycleCommand(LifecycleHook Hook, LifecycleCommandForm Form, IReadOnlyList<LifecycleStep> Steps)
{
    /// <summary>True for <see cref="LifecycleHook.InitializeCommand"/>: it is meant for the host and is kept
    /// only so callers can tell the user it was not run.</summary>
    public bool RunsOnHost => Hook == LifecycleHook.InitializeCommand;
}
