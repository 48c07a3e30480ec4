using System.ComponentModel.DataAnnotations;

namespace CloudDevEnv.Grains.Workspaces;

/// <summary>The longest each phase may last, bound from <c>Workspaces:Deadlines:&lt;Phase&gt;</c>. Deleting has none: a delete
/// always goes on until it is done.</summary>
public sealed class PhaseDeadlines
{
    [Range(typeof(TimeSpan), "00:00:01", "7.00:00:00")]
    public TimeSpan Pending { get; set; } = TimeSpan.FromMinutes(10);

    [Range(typeof(TimeSpan), "00:00:01", "7.00:00:00")]
    public TimeSpan Building { get; set; } = TimeSpan.FromMinutes(30);

    [Range(typeof(TimeSpan), "00:00:01", "7.00:00:00")]
    public TimeSpan Creating { get; set; } = TimeSpan.FromMinutes(5);

    [Range(typeof(TimeSpan), "00:00:01", "7.00:00:00")]
    public TimeSpan Initializing { get; set; } = TimeSpan.FromMinutes(15);

    [Range(typeof(TimeSpan), "00:00:01", "7.00:00:00")]
    public TimeSpan Stopping { get; set; } = TimeSpan.FromMinutes(5);

    public TimeSpan? For(WorkspacePhase phase) => phase switch
    {
        WorkspacePhase.Pending => Pending,
        WorkspacePhase.Building => Building,
        WorkspacePhase.Creating => Creating,
        WorkspacePhase.Initializing => Initializing,
        WorkspacePhase.Stopping => Stopping,
        _ => null,
    };
}
