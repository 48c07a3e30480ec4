namespace CloudDevEnv.Contracts.Workspaces;

/// <summary>One workspace, keyed by its id (a DNS label). Commands change the desired state and
/// return at once; the grain's reconcile loop does the slow work and reports it as events.</summary>
/// <remarks>Refused commands throw <see cref="WorkspaceRejectedException"/> and change nothing.</remarks>
[Alias("cde.IWorkspaceGrain")]
public interface IWorkspaceGrain : IGrainWithStringKey
{
    /// <summary>Creates the workspace with desired state Running for <see cref="WorkspaceSpec.Owner"/>, who is the
    /// event's actor. Refused if the id is taken.</summary>
    /// <param name="secrets">Secret environment variables (name → value): sealed before they are stored, set for the
    /// hooks, the IDE and its terminals, and never returned; their names become <see cref="WorkspaceSpec.SecretNames"/>.</param>
    [Alias("Create")]
    Task<WorkspaceStatus> CreateAsync(WorkspaceSpec spec, IReadOnlyDictionary<string, string>? secrets = null);

    [Alias("GetStatus")]
    Task<WorkspaceStatus> GetStatusAsync();

    /// <summary>Asks for Running. Idempotent; refused once deleting or deleted.</summary>
    /// <param name="actor">Who asks (a user id, or <see cref="WorkspaceActor.Platform"/>): recorded with the event.
    /// The caller has decided that they may; the grain does not check it again.</param>
    [Alias("Start")]
    Task<WorkspaceStatus> StartAsync(string actor);

    /// <summary>Asks for Stopped, keeping the files. Idempotent; refused once deleting or deleted.</summary>
    [Alias("Stop")]
    Task<WorkspaceStatus> StopAsync(string actor);

    /// <summary>Changes the idle timeout or the display name, checked as at creation; a new idle timeout counts from
    /// the last activity at once. Refused once deleting or deleted.</summary>
    [Alias("Update")]
    Task<WorkspaceStatus> UpdateAsync(WorkspaceChange change, string actor);

    /// <summary>Asks for Deleted: container or pod and volumes are removed. Idempotent.</summary>
    [Alias("Delete")]
    Task<WorkspaceStatus> DeleteAsync(string actor);

    /// <summary>The kept snapshots of its files, newest first.</summary>
    [AlwaysInterleave, Alias("ListSnapshots")]
    Task<ImmutableArray<WorkspaceSnapshot>> ListSnapshotsAsync();

    /// <summary>Asks for a snapshot of the running workspace's files now; the events say when it is taken. Refused unless
    /// Running (a stop takes one by itself), or when the platform keeps no snapshots.</summary>
    [Alias("Snapshot")]
    Task<WorkspaceStatus> SnapshotAsync(string actor);

    /// <summary>Starts a stopped (or failed) workspace with its files replaced by the snapshot <paramref name="snapshotId"/>.
    /// Refused while it runs (stop it first) and for a snapshot that is not kept.</summary>
    [Alias("Restore")]
    Task<WorkspaceStatus> RestoreAsync(string snapshotId, string actor);

    /// <summary>Where the proxy sends this workspace's traffic.</summary>
    [Alias("GetRoute")]
    Task<WorkspaceRoute> GetRouteAsync();

    /// <summary>Makes a port reachable by anyone (public) or by the owner alone (private, the default).</summary>
    [Alias("SetPortVisibility")]
    Task<WorkspaceRoute> SetPortVisibilityAsync(int port, bool isPublic, string actor);

    /// <summary>The workspace's ports: those something listens on now (when Running), those devcontainer.json forwards,
    /// and the public ones; never the platform's own (the gateway, the IDE).</summary>
    [AlwaysInterleave, Alias("GetPorts")]
    Task<ImmutableArray<WorkspacePort>> GetPortsAsync();

    /// <summary>Counts as activity now (postpones the idle stop), for a user reading rather than typing.</summary>
    [Alias("KeepAlive")]
    Task<WorkspaceStatus> KeepAliveAsync(string actor);

    /// <summary>Pins (or unpins) the workspace: a pinned workspace is not deleted however long it stays stopped.</summary>
    [Alias("Pin")]
    Task<WorkspaceStatus> PinAsync(bool pinned, string actor);

    /// <summary>The proxy saw traffic at <paramref name="at"/>: postpones the idle stop.</summary>
    [OneWay, Alias("ReportActivity")]
    Task ReportActivityAsync(DateTimeOffset at);

    /// <summary>Subscribes or renews a subscription to this workspace's events.</summary>
    [Alias("Subscribe")]
    Task SubscribeAsync(IWorkspaceObserver observer);

    /// <summary>Subscribes or renews a subscription to the events that can change the workspace's route: all but log
    /// lines, of which a build writes thousands (the proxy's subscription).</summary>
    [Alias("SubscribeToRoute")]
    Task SubscribeToRouteAsync(IWorkspaceObserver observer);

    /// <summary>Ends either subscription.</summary>
    [Alias("Unsubscribe")]
    Task UnsubscribeAsync(IWorkspaceObserver observer);
}
