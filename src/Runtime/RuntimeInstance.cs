namespace CloudDevEnv.Runtime;

public enum InstanceState
{
    /// <summary>Created, never started.</summary>
    Created = 0,
    Running = 1,
    /// <summary>Stopped, by us or because its process ended.</summary>
    Exited = 2,
    /// <summary>Being removed, restarting or in another transient state.</summary>
    Transitioning = 3,
}

/// <summary>A workspace's backing container or pod as the runtime reports it.</summary>
/// <param name="Name">The container or pod name, shown in the workspace status.</param>
/// <param name="Gateway">Where the proxy reaches the instance's gateway; null unless running (and for an instance
/// without one).</param>
/// <param name="ExitCode">The main process's exit code once it has exited.</param>
public sealed record RuntimeInstance(
    string WorkspaceId,
    string Owner,
    string Name,
    string Image,
    InstanceState State,
    Uri? Gateway,
    int? ExitCode);
