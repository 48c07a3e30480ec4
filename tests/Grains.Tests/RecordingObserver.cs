namespace CloudDevEnv.Grains.Tests;

/// <summary>An observer that keeps what it is told, for tests to read.</summary>
public sealed class RecordingObserver : IWorkspaceObserver
{
    private readonly System.Collections.Concurrent.ConcurrentQueue<WorkspaceEvent> _events = new();
    private readonly System.Collections.Concurrent.ConcurrentQueue<string> _ids = new();

    /// <summary>In sequence order: one-way notifications may arrive out of order; sequence numbers say the true one.</summary>
    public IReadOnlyList<WorkspacePhase> Phases => [.. _events.Where(e => e.Kind == WorkspaceEventKind.Phase).OrderBy(e => e.Sequence).Select(e => e.Phase)];

    public IReadOnlyList<string> Ids => [.. _ids];

    public IReadOnlyList<WorkspaceEvent> Events => [.. _events];

    public Task OnEvent(string workspaceId, WorkspaceEvent workspaceEvent)
    {
        _ids.Enqueue(workspaceId);
        _events.Enqueue(workspaceEvent);
        return Task.CompletedTask;
    }
}
