using CloudDevEnv.Grains.Workspaces;

namespace CloudDevEnv.Grains.Tests;

/// <summary>Properties of the phase graph a user relies on, rather than a copy of the table.</summary>
public sealed class TransitionTableTests
{
    private static readonly WorkspacePhase[] All = Enum.GetValues<WorkspacePhase>();

    [Fact]
    public void Deleted_is_final() => Assert.Empty(WorkspaceTransitions.From(WorkspacePhase.Deleted));

    [Fact]
    public void Every_phase_but_the_last_two_can_be_deleted() =>
        Assert.All(All.Except([WorkspacePhase.Deleting, WorkspacePhase.Deleted]), p => Assert.True(WorkspaceTransitions.IsLegal(p, WorkspacePhase.Deleting), $"{p} → Deleting"));

    [Fact]
    public void Every_active_phase_can_fail()
    {
        var active = All.Except([WorkspacePhase.Stopped, WorkspacePhase.Deleted, WorkspacePhase.Failed]);
        Assert.All(active, p => Assert.True(WorkspaceTransitions.IsLegal(p, WorkspacePhase.Failed), $"{p} → Failed"));
    }

    [Fact]
    public void Running_is_reached_only_through_initializing() =>
        Assert.Equal([WorkspacePhase.Initializing], All.Where(p => WorkspaceTransitions.IsLegal(p, WorkspacePhase.Running)));

    [Fact]
    public void Only_a_started_workspace_can_be_interrupted() =>
        Assert.Equal([WorkspacePhase.Initializing, WorkspacePhase.Running], All.Where(p => WorkspaceTransitions.IsLegal(p, WorkspacePhase.Interrupted)));

    [Fact]
    public void A_stopped_workspace_starts_by_creating_its_container_again()
    {
        Assert.True(WorkspaceTransitions.IsLegal(WorkspacePhase.Stopped, WorkspacePhase.Creating));
        Assert.False(WorkspaceTransitions.IsLegal(WorkspacePhase.Stopped, WorkspacePhase.Running));
        Assert.False(WorkspaceTransitions.IsLegal(WorkspacePhase.Stopped, WorkspacePhase.Stopping));
    }

    [Fact]
    public void No_phase_leads_to_itself() => Assert.All(All, p => Assert.False(WorkspaceTransitions.IsLegal(p, p)));

    [Fact]
    public void Every_phase_is_reachable_from_pending()
    {
        var seen = new HashSet<WorkspacePhase> { WorkspacePhase.Pending };
        var queue = new Queue<WorkspacePhase>(seen);
        while (queue.TryDequeue(out var phase))
        {
            foreach (var next in WorkspaceTransitions.From(phase).Where(seen.Add))
            {
                queue.Enqueue(next);
            }
        }

        Assert.Equal(All.Order(), seen.Order());
    }
}
