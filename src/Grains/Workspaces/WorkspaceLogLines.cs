namespace CloudDevEnv.Grains.Workspaces;

/// <summary>The build, clone and hook output of a workspace: the newest lines, in memory for the activation's life.
/// Not part of the workspace's record: persisting them would bloat every write, and a line lost with a crash costs
/// nothing (a failure keeps its own tail in the workspace's reason).</summary>
internal sealed class WorkspaceLogLines(int capacity)
{
    private readonly Queue<WorkspaceEvent> _lines = new();

    public void Add(WorkspaceEvent line)
    {
        _lines.Enqueue(line);
        while (_lines.Count > capacity)
        {
            _lines.Dequeue();
        }
    }

    /// <summary>The workspace's own events and the log lines, in order, the newest <paramref name="count"/>.</summary>
    public IEnumerable<WorkspaceEvent> MergeNewest(IReadOnlyList<WorkspaceEvent> events, int count) =>
        events.Concat(_lines).OrderBy(e => e.Sequence).TakeLast(count);
}
