namespace CloudDevEnv.Grains.Provisioning;

/// <summary>A step failed for a reason retrying cannot cure (the clone was refused, a hook exited non-zero).</summary>
/// <param name="KeepInstanceRunning">True leaves the container up for the owner to inspect (as Codespaces does
/// after a failing hook); false stops it, when nothing in it is worth seeing.</param>
public sealed class WorkspaceFailure(string message, bool keepInstanceRunning) : Exception(message)
{
    public bool KeepInstanceRunning { get; } = keepInstanceRunning;
}
