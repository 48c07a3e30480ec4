using System.Globalization;
using CloudDevEnv.Grains.Owners;
using CloudDevEnv.Grains.Provisioning;
using CloudDevEnv.Grains.Snapshots;
using Orleans.Placement;
using Orleans.Utilities;

namespace CloudDevEnv.Grains.Workspaces;

/// <summary>One workspace: owns its state, answers its commands, and carries out the steps of its lifecycle on its
/// container or pod.</summary>
/// <remarks>
/// Three parts, each in one place: commands (here) only change the desired state, as one persisted change, and return;
/// the <see cref="ReconcileLoop"/> runs the steps, one at a time, cancelling, retrying or failing them; the
/// <see cref="WorkspacePolicy"/> decides what each step is (and what a health check concludes) from the state and the
/// clock alone. The loop is level-triggered: after a crash at any point the next activation repeats the step it was in,
/// and the runtime adopts whatever that step had already created.
/// </remarks>
[Immovable]
public sealed partial class WorkspaceGrain(
    [PersistentState("workspace", StorageNames.Workspaces)] IPersistentState<WorkspaceState> state,
    WorkspaceProvisioner provisioner,
    WorkspaceSnapshots snapshots,
    IWorkspaceRuntime runtime,
    IOptions<WorkspaceOptions> options,
    IOptions<ProvisioningOptions> provisioning,
    IOptions<CloudDevEnv.Platform.PublicAddressOptions> urls,
    Secrets.SecretSealer sealer,
    ILocalSiloDetails silo,
    TimeProvider time,
    Orleans.Serialization.DeepCopier<WorkspaceState> copier,
    ILogger<WorkspaceGrain> logger) : Grain, IWorkspaceGrain, IRemindable, IReconcileTarget
{
    private const string ReminderName = "reconcile";

    /// <summary>Held by a stopped workspace that retention may delete, to look at it while the grain is not active.</summary>
    private const string RetentionReminderName = "retention";
    private static readonly TimeSpan ActivityPersistInterval = TimeSpan.FromMinutes(1);

    /// <summary>Log lines between two writes of the state use sequence numbers from a block reserved in it.</summary>
    private const int SequenceBlock = 1_000;

    private readonly ObserverManager<IWorkspaceObserver> _observers = new(options.Value.ObserverExpiry, logger);
    private readonly ObserverManager<IWorkspaceObserver> _routeObservers = new(options.Value.ObserverExpiry, logger);
    private readonly WorkspaceLogLines _logLines = new(options.Value.LogLineCount);
    private readonly SemaphoreSlim _writeLock = new(1, 1);
    private ReconcileLoop? _loop;
    private TaskScheduler? _scheduler;
    private bool? _reminderRegistered;
    private DateTimeOffset? _persistedActivity;
    private RuntimeInstance? _instance;
    private int _ideSilentChecks;
    private Task _laterHooks = Task.CompletedTask;
    private CancellationTokenSource? _laterHooksCancel;
    private int _laterHooksAttempts;
    private List<WorkspaceEvent>? _deferred;

    private string Id => this.GetPrimaryKeyString();

    private WorkspaceState S => state.State;

    private WorkspaceOptions Options => options.Value;

    private IOwnerGrain Owner => GrainFactory.GetGrain<IOwnerGrain>(S.Spec!.Owner);

    public override Task OnActivateAsync(CancellationToken cancellationToken)
    {
        _scheduler = TaskScheduler.Current;
        _persistedActivity = S.LastActivityAt;

        // Log lines of an activation that ended without a write (a crash) took numbers up to the reserved mark.
        S.NextSequence = Math.Max(S.NextSequence, S.SequenceReservedThrough + 1);
        // Look at the runtime at once unless settled: this adopts what a crashed activation left behind.
        _loop = new ReconcileLoop(this, Options, time, Id, logger);
        _loop.Start(this, lookNow: S.Spec is not null && !IsSettled);
        return base.OnActivateAsync(cancellationToken);
    }

    public override async Task OnDeactivateAsync(DeactivationReason reason, CancellationToken cancellationToken)
    {
        // Steps are idempotent: the next activation repeats the one cut short here.
        if (_loop is not null)
        {
            await _loop.StopAsync(cancellationToken);
        }

        // So are the later hooks: the next activation runs those that did not finish.
        _laterHooksCancel?.Cancel();
        await _laterHooks.WaitAsync(cancellationToken).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing | ConfigureAwaitOptions.ContinueOnCapturedContext);

        await base.OnDeactivateAsync(reason, cancellationToken);
    }

    private bool IsSettled => WorkspacePolicy.IsSettled(S.Desired, S.Phase);

    private void Dirty() => _loop?.Dirty();

    async Task<WorkspaceStatus> IWorkspaceGrain.CreateAsync(WorkspaceSpec spec, IReadOnlyDictionary<string, string>? secrets)
    {
        if (S.Spec is not null)
        {
            throw new WorkspaceRejectedException(WorkspaceRejection.Conflict, $"A workspace with the id '{Id}' exists already.");
        }

        if (!WorkspaceId.IsValid(Id))
        {
            throw new WorkspaceRejectedException(WorkspaceRejection.Invalid, $"'{Id}' is not a DNS label.", "id");
        }

        var normalized = WorkspaceSpecValidator.Normalize(spec, Options, provisioning.Value);
        WorkspaceSpecValidator.CheckSecrets(secrets, normalized);
        if (secrets is { Count: > 0 } && !sealer.IsEnabled)
        {
            throw new WorkspaceRejectedException(
                WorkspaceRejection.Invalid, "This platform keeps no secrets: its operator has set no Secrets:Key or Secrets:KeyFile.", "secrets");
        }

        normalized = normalized with { SecretNames = secrets is { Count: > 0 } ? [.. secrets.Keys.Order(StringComparer.Ordinal)] : null };

        // Sealed before anything is stored: the record on disk never holds a secret's value.
        var sealedSecrets = (secrets ?? new Dictionary<string, string>()).ToDictionary(
            kv => kv.Key, kv => sealer.Seal(Id, kv.Key, kv.Value), StringComparer.Ordinal);
        var owner = GrainFactory.GetGrain<IOwnerGrain>(normalized.Owner);
        await AcquireRunSlotAsync(owner);
        try
        {
            await ChangeAsync(s =>
            {
                var now = time.GetUtcNow();
                s.Spec = normalized;
                s.Secrets = sealedSecrets;
                s.GatewaySecret = InstanceGateway.NewSecret();
                s.Phase = WorkspacePhase.Pending;
                s.PhaseSince = now;
                s.Desired = DesiredState.Running;
                s.CreatedAt = now;
                Record(WorkspaceEventKind.Phase, $"Created for {normalized.Owner} from {normalized.RepoUrl}.", actor: normalized.Owner);
            });
        }
        catch
        {
            // Leave nothing behind: neither a half-written workspace nor a slot in the owner's quota. Should this
            // removal fail too, the owner's index holds an id without a workspace, which listing and the quota repair.
            await owner.RemoveAsync(Id);
            throw;
        }

        LogCreated(Id, normalized.Owner, normalized.RepoUrl);
        await SyncReminderAsync();
        Dirty();
        return Status();
    }

    Task<WorkspaceStatus> IWorkspaceGrain.GetStatusAsync()
    {
        EnsureExists();
        return Task.FromResult(Status());
    }

    async Task<WorkspaceStatus> IWorkspaceGrain.StartAsync(string actor)
    {
        EnsureExists();
        EnsureNotDeleted("start");
        if (S.Desired == DesiredState.Running && S.Phase != WorkspacePhase.Failed)
        {
            return Status();
        }

        await StartWithAsync(actor, "Start requested.", restoreFrom: null);
        return Status();
    }

    /// <summary>Asks for Running as one change, holding a run slot: a plain start, or one that restores a snapshot first.</summary>
    private async Task StartWithAsync(string actor, string message, string? restoreFrom)
    {
        await AcquireRunSlotAsync(Owner);
        try
        {
            await ChangeAsync(s =>
            {
                // A delete acknowledged while this start waited for its slot wins.
                if (s.Desired == DesiredState.Deleted)
                {
                    throw new WorkspaceRejectedException(WorkspaceRejection.Conflict, $"Cannot start workspace '{Id}': it is being deleted.");
                }

                s.Desired = DesiredState.Running;
                // The owner asked: the interruptions that made it give up count no more.
                s.Interruptions.Clear();
                // A restore that failed is not tried again by a plain start: the failure said why.
                s.RestoreFrom = restoreFrom;
                Record(WorkspaceEventKind.Command, message, actor: actor);
                if (s.Phase == WorkspacePhase.Failed)
                {
                    Transition(WorkspacePhase.Pending, "Retrying after a failure.");
                }
            });
        }
        finally
        {
            // Refused by storage: the slot goes back unless the workspace wants it after all.
            await SyncRunSlotAsync();
        }

        await SyncReminderAsync();
        Dirty();
    }

    async Task<ImmutableArray<WorkspaceSnapshot>> IWorkspaceGrain.ListSnapshotsAsync()
    {
        EnsureExists();
        var kept = await snapshots.ListAsync(Id, CancellationToken.None);
        return [.. kept.Reverse().Select(s => new WorkspaceSnapshot(s.Key, s.TakenAt, s.SizeBytes))];
    }

    async Task<WorkspaceStatus> IWorkspaceGrain.SnapshotAsync(string actor)
    {
        EnsureExists();
        EnsureNotDeleted("snapshot");
        EnsureSnapshotsOn();
        if (S.Phase != WorkspacePhase.Running || S.Desired != DesiredState.Running)
        {
            throw new WorkspaceRejectedException(
                WorkspaceRejection.Conflict,
                $"Only a running workspace is snapshotted on request; '{Id}' is {S.Phase}{(S.Phase == WorkspacePhase.Stopped ? " (its stop took one)" : string.Empty)}.");
        }

        if (S.SnapshotRequestedBy is null)
        {
            await ChangeAsync(s =>
            {
                s.SnapshotRequestedBy = actor;
                Record(WorkspaceEventKind.Command, "Snapshot requested.", actor: actor);
            });
        }

        Dirty();
        return Status();
    }

    async Task<WorkspaceStatus> IWorkspaceGrain.RestoreAsync(string snapshotId, string actor)
    {
        ArgumentNullException.ThrowIfNull(snapshotId);
        EnsureExists();
        EnsureNotDeleted("restore");
        EnsureSnapshotsOn();
        if (S.Phase is not (WorkspacePhase.Stopped or WorkspacePhase.Failed) || S.Desired == DesiredState.Running && S.Phase != WorkspacePhase.Failed)
        {
            throw new WorkspaceRejectedException(
                WorkspaceRejection.Conflict,
                $"A restore replaces the workspace's {WorkspaceSnapshots.Described}: stop '{Id}' first (it is {S.Phase}), then restore.");
        }

        var kept = await snapshots.ListAsync(Id, CancellationToken.None);
        if (kept.FirstOrDefault(s => s.Key == snapshotId) is not { } chosen)
        {
            throw new WorkspaceRejectedException(
                WorkspaceRejection.Invalid, $"Workspace '{Id}' keeps no snapshot '{snapshotId}'; GET …/snapshots lists the ones it keeps.", "snapshotId");
        }

        await StartWithAsync(actor, string.Create(CultureInfo.InvariantCulture, $"Restore of the snapshot {chosen.Key} taken at {chosen.TakenAt:u} requested."), chosen.Key);
        return Status();
    }

    private void EnsureSnapshotsOn()
    {
        if (!snapshots.IsEnabled)
        {
            throw new WorkspaceRejectedException(WorkspaceRejection.Conflict, "This platform keeps no snapshots: its operator configured no snapshot store.");
        }
    }

    async Task<WorkspaceStatus> IWorkspaceGrain.StopAsync(string actor)
    {
        EnsureExists();
        EnsureNotDeleted("stop");
        if (S.Desired == DesiredState.Stopped)
        {
            return Status();
        }

        await RequestStopAsync("Stop requested.", actor);
        return Status();
    }

    async Task<WorkspaceStatus> IWorkspaceGrain.UpdateAsync(WorkspaceChange change, string actor)
    {
        ArgumentNullException.ThrowIfNull(change);
        EnsureExists();
        EnsureNotDeleted("change");
        var current = S.Spec!;
        var wanted = WorkspaceSpecValidator.Normalize(
            current with
            {
                IdleTimeout = change.IdleTimeout ?? current.IdleTimeout,
                DisplayName = change.DisplayName is null ? current.DisplayName : change.DisplayName.Length == 0 ? null : change.DisplayName,
            },
            Options,
            provisioning.Value);
        if (wanted == current)
        {
            return Status();
        }

        await ChangeAsync(s =>
        {
            s.Spec = wanted;
            Record(WorkspaceEventKind.Command, string.Create(CultureInfo.InvariantCulture,
                $"Changed: idle timeout {wanted.IdleTimeout!.Value.TotalMinutes:0} min, name {(wanted.DisplayName is { } name ? "\"" + name + "\"" : "none")}."), actor: actor);
        });

        // A shorter idle timeout may already be past: the loop looks at once.
        Dirty();
        return Status();
    }

    async Task<WorkspaceStatus> IWorkspaceGrain.DeleteAsync(string actor)
    {
        EnsureExists();
        if (S.Desired != DesiredState.Deleted)
        {
            await ChangeAsync(s =>
            {
                if (s.Desired == DesiredState.Deleted)
                {
                    return false;
                }

                s.Desired = DesiredState.Deleted;
                Record(WorkspaceEventKind.Command, "Delete requested.", actor: actor);
                return true;
            });
            await SyncRunSlotAsync();
            await SyncReminderAsync();
        }

        if (S.Phase != WorkspacePhase.Deleted)
        {
            Dirty();
        }

        return Status();
    }

    async Task<WorkspaceRoute> IWorkspaceGrain.GetRouteAsync()
    {
        EnsureExists();
        if (S.Phase == WorkspacePhase.Running && _instance is null)
        {
            _instance = await runtime.InspectAsync(Id, CancellationToken.None);
        }

        return Route();
    }

    async Task<WorkspaceRoute> IWorkspaceGrain.SetPortVisibilityAsync(int port, bool isPublic, string actor)
    {
        EnsureExists();
        EnsureNotDeleted("change a port of");
        if (port is < 1 or > 65535)
        {
            throw new WorkspaceRejectedException(WorkspaceRejection.Invalid, "port must be between 1 and 65535.", "port");
        }

        // The IDE is a shell on the workspace: making its port public would hand the workspace to anyone with the URL.
        if (isPublic && (port == Options.IdePort || port == Options.GatewayPort))
        {
            throw new WorkspaceRejectedException(
                WorkspaceRejection.Invalid, $"Port {port} is the workspace's IDE; it is private to its owner and cannot be made public.", "port");
        }

        if (S.PublicPorts.Contains(port) != isPublic)
        {
            await ChangeAsync(s =>
            {
                _ = isPublic ? s.PublicPorts.Add(port) : s.PublicPorts.Remove(port);
                Record(WorkspaceEventKind.Command, $"Port {port} is now {(isPublic ? "public" : "private")}.", actor: actor);
            });
        }

        return Route();
    }

    /// <summary>How long a look at the listening ports may take before the answer goes without them.</summary>
    private static readonly TimeSpan PortsTimeout = TimeSpan.FromSeconds(5);

    async Task<ImmutableArray<WorkspacePort>> IWorkspaceGrain.GetPortsAsync()
    {
        EnsureExists();
        IReadOnlySet<int> listening = new HashSet<int>();
        if (S.Phase == WorkspacePhase.Running)
        {
            using var timeout = new CancellationTokenSource(PortsTimeout);
            listening = await Ports.ListeningPorts.ReadAsync(runtime, Id, timeout.Token);
        }

        var declared = S.Plan?.ForwardPorts ?? [];
        return [.. listening.Concat(declared).Concat(S.PublicPorts)
            .Where(p => p != Options.GatewayPort && p != Options.IdePort)
            .Distinct()
            .Order()
            .Select(p => new WorkspacePort(p, listening.Contains(p), declared.Contains(p), S.PublicPorts.Contains(p)))];
    }

    async Task<WorkspaceStatus> IWorkspaceGrain.KeepAliveAsync(string actor)
    {
        EnsureExists();
        EnsureNotDeleted("keep alive");
        if (S.Phase != WorkspacePhase.Running || S.Desired != DesiredState.Running)
        {
            throw new WorkspaceRejectedException(WorkspaceRejection.Conflict, $"Only a running workspace is kept alive; '{Id}' is {S.Phase}.");
        }

        await RecordActivityAsync(time.GetUtcNow(), force: true);
        return Status();
    }

    async Task<WorkspaceStatus> IWorkspaceGrain.PinAsync(bool pinned, string actor)
    {
        EnsureExists();
        EnsureNotDeleted(pinned ? "pin" : "unpin");
        if (S.Pinned != pinned)
        {
            await ChangeAsync(s =>
            {
                s.Pinned = pinned;
                // A notice given before a pin was answered by it: an unpin gets a fresh one before any deletion.
                s.RetentionWarnedAt = null;
                Record(WorkspaceEventKind.Command, pinned ? "Pinned: kept however long it stays stopped." : "Unpinned: deleted once stopped for the retention period.", actor: actor);
            });
            await SyncReminderAsync();
            Dirty();
        }

        return Status();
    }

    async Task IWorkspaceGrain.ReportActivityAsync(DateTimeOffset at)
    {
        if (S.Spec is null || (S.LastActivityAt is { } last && last >= at))
        {
            return;
        }

        // The clock of the reporter may run ahead of ours; activity in the future would postpone reaping forever.
        var now = time.GetUtcNow();
        await RecordActivityAsync(at > now ? now : at, force: false);
    }

    /// <summary>Activity postpones the idle stop; a warning already given is answered, once, by saying so.</summary>
    private async Task RecordActivityAsync(DateTimeOffset at, bool force)
    {
        S.LastActivityAt = at;
        var answered = S.IdleWarnedLead is not null && S.IdleWarnedAt <= at;
        if (answered)
        {
            S.IdleWarnedLead = null;
            S.IdleWarnedAt = null;
            Record(WorkspaceEventKind.Command, string.Create(CultureInfo.InvariantCulture,
                $"Activity: the idle stop is postponed to {WorkspacePolicy.IdleStopAt(at, S.Spec!.IdleTimeout!.Value):u}."));
        }

        if (force || answered || _persistedActivity is null || S.LastActivityAt - _persistedActivity >= ActivityPersistInterval)
        {
            await PersistAsync();
        }
    }

    Task IWorkspaceGrain.SubscribeAsync(IWorkspaceObserver observer)
    {
        EnsureExists();
        _observers.Subscribe(observer, observer);
        return Task.CompletedTask;
    }

    Task IWorkspaceGrain.SubscribeToRouteAsync(IWorkspaceObserver observer)
    {
        EnsureExists();
        _routeObservers.Subscribe(observer, observer);
        return Task.CompletedTask;
    }

    Task IWorkspaceGrain.UnsubscribeAsync(IWorkspaceObserver observer)
    {
        _observers.Unsubscribe(observer);
        _routeObservers.Unsubscribe(observer);
        return Task.CompletedTask;
    }

    Task IRemindable.ReceiveReminder(string reminderName, TickStatus status)
    {
        if (S.Spec is null || (IsSettled && !RetentionApplies))
        {
            return SyncReminderAsync();
        }

        Dirty();
        return Task.CompletedTask;
    }

    /// <summary>A stopped workspace that is not pinned is deleted once the retention period is over.</summary>
    private bool RetentionApplies =>
        S.Spec is not null && S.Phase == WorkspacePhase.Stopped && S.Desired == DesiredState.Stopped && !S.Pinned && Options.StoppedRetention > TimeSpan.Zero;

    // ---- The steps, as the policy decides them ----

    bool IReconcileTarget.Exists => S.Spec is not null;

    DesiredState IReconcileTarget.Intent => S.Desired;

    string? IReconcileTarget.PastDeadline() => WorkspacePolicy.PastDeadline(S.Phase, S.PhaseSince, time.GetUtcNow(), Options.Deadlines);

    TimeSpan? IReconcileTarget.DeadlineLeft() => WorkspacePolicy.DeadlineLeft(S.Phase, S.PhaseSince, time.GetUtcNow(), Options.Deadlines);

    TimeSpan? IReconcileTarget.NextLook() =>
        S.Phase == WorkspacePhase.Running ? Options.HealthCheckInterval
        : RetentionApplies ? Options.RetentionCheckInterval
        : null;

    string IReconcileTarget.DescribeStep() => S.Phase switch
    {
        WorkspacePhase.Building => "building the image",
        WorkspacePhase.Creating => "creating the container",
        WorkspacePhase.Initializing => "cloning the repository and starting the IDE",
        WorkspacePhase.Stopping => "stopping",
        WorkspacePhase.Deleting => "deleting",
        _ => S.Phase.ToString().ToLowerInvariant(),
    };

    async Task IReconcileTarget.RetryingAsync(Exception exception, int attempt, TimeSpan delay)
    {
        Record(WorkspaceEventKind.Error, $"{S.Phase} failed: {exception.Message}. Retrying in {delay.TotalSeconds:0.#} s (attempt {attempt} of {Options.MaxAttempts}).");
        await PersistAsync();
    }

    Task IReconcileTarget.FailAsync(string reason, bool keepInstanceRunning) => FailAsync(reason, keepInstanceRunning);

    /// <summary>Carries out the step the policy names.</summary>
    /// <returns>True when another step may follow at once.</returns>
    async Task<bool> IReconcileTarget.StepAsync(CancellationToken cancellationToken)
    {
        var spec = S.Spec!;
        switch (WorkspacePolicy.NextStep(S.Desired, S.Phase))
        {
            case WorkspaceStep.Delete:
                if (S.Phase != WorkspacePhase.Deleting)
                {
                    await TransitionAsync(WorkspacePhase.Deleting);
                }

                await runtime.DeleteAsync(Id, cancellationToken);

                // A clone instance whose removal failed when its step ended (the removal is best effort there) goes too.
                await runtime.DeleteAsync(ContainerCheckout.PrepareId(Id), cancellationToken);
                await DeleteSnapshotsAsync(cancellationToken);
                await Owner.RemoveAsync(Id);
                _instance = null;
                S.Instance = null;
                await TransitionAsync(WorkspacePhase.Deleted);
                await SyncReminderAsync();
                return false;

            case WorkspaceStep.Stop:
                // From Stopping with Running desired, this finishes the stop under way; the start begins from Stopped.
                await StopInstanceAsync(cancellationToken);
                return true;

            case WorkspaceStep.Resolve:
                if (S.Phase == WorkspacePhase.Pending)
                {
                    await TransitionAsync(WorkspacePhase.Building);
                }

                var launch = await provisioner.ResolveAsync(Id, spec, Log(), cancellationToken);
                S.Image = launch.Image;
                S.Plan = launch.Plan;
                await TransitionAsync(WorkspacePhase.Creating);
                return true;

            case WorkspaceStep.Create:
                if (S.GatewaySecret is null)
                {
                    // Made before workspaces had gateways: its next container gets one, and keeps it.
                    S.GatewaySecret = InstanceGateway.NewSecret();
                    await PersistAsync();
                }

                _instance = await provisioner.CreateAsync(Id, spec, S.Image!, S.Plan, S.GatewaySecret, cancellationToken);
                S.Instance = _instance.Name;
                await TransitionAsync(WorkspacePhase.Initializing);
                return true;

            case WorkspaceStep.Initialize:
                // A restore the owner asked for replaces the folder, whatever it holds.
                if (S.RestoreFrom is { } chosen)
                {
                    var put = await snapshots.RestoreAsync(Id, chosen, cancellationToken);
                    S.RestoreFrom = null;
                    Record(WorkspaceEventKind.Snapshot, string.Create(
                        CultureInfo.InvariantCulture,
                        $"Restored {WorkspaceSnapshots.Described} from the snapshot {put.Key} taken at {put.TakenAt:u} ({put.SizeBytes} bytes), as asked."));
                    await PersistAsync();
                }

                // A fresh instance (removed behind our back, or on another machine) gets its files back from the
                // latest snapshot instead of a clone; InitializeAsync then finds the clone there and runs postStart only.
                else if (await snapshots.RestoreIfEmptyAsync(Id, cancellationToken) is { } outcome)
                {
                    foreach (var skipped in outcome.Skipped)
                    {
                        Record(WorkspaceEventKind.Warning, skipped);
                    }

                    if (outcome.Restored is { } restored)
                    {
                        Record(WorkspaceEventKind.Snapshot, string.Create(
                            CultureInfo.InvariantCulture,
                            $"Restored {WorkspaceSnapshots.Described} from the snapshot taken at {restored.TakenAt:u} ({restored.SizeBytes} bytes) instead of cloning."));
                    }
                    else
                    {
                        Record(WorkspaceEventKind.Warning, "No snapshot could be restored: the repository is cloned afresh, and work that was not pushed is not in it.");
                    }

                    await PersistAsync();
                }

                var laterHooks = await provisioner.InitializeAsync(Id, spec, S.Image, S.Plan, UserEnvironment(), Log(), cancellationToken);
                _instance = await runtime.InspectAsync(Id, cancellationToken);
                var now = time.GetUtcNow();
                S.RunningSince = now;
                S.LastActivityAt = now;
                S.LaterHooksPending = laterHooks;
                S.HookFailure = null;
                _laterHooksAttempts = 0;
                await TransitionAsync(WorkspacePhase.Running);
                return true;

            case WorkspaceStep.Check:
                StartLaterHooks();
                return await CheckRunningAsync(cancellationToken);

            case WorkspaceStep.Restart:
                await TransitionAsync(WorkspacePhase.Creating, "Starting the workspace again.");
                return true;

            case WorkspaceStep.StartAgain:
                await TransitionAsync(S.Image is null ? WorkspacePhase.Pending : WorkspacePhase.Creating);
                return true;

            default:
                // Settled, or Failed while Running is desired (waiting for the owner to start it again).
                if (RetentionApplies)
                {
                    await CheckRetentionAsync();
                }

                await SyncReminderAsync();
                return false;
        }
    }

    /// <summary>Starts the hooks after <c>waitFor</c> beside the health checks, unless they are done or under way: they
    /// may take minutes (an `npm install`), or never end, and must keep neither the idle reaper nor a stop waiting.</summary>
    private void StartLaterHooks()
    {
        if (!S.LaterHooksPending || !_laterHooks.IsCompleted)
        {
            return;
        }

        _laterHooksCancel?.Dispose();
        _laterHooksCancel = new CancellationTokenSource();
        _laterHooks = RunLaterHooksAsync(_laterHooksCancel.Token);
    }

    private async Task RunLaterHooksAsync(CancellationToken cancellationToken)
    {
        Action<WorkspaceState> outcome;
        try
        {
            await provisioner.RunLaterHooksAsync(Id, S.Plan, UserEnvironment(), Log(), cancellationToken);
            outcome = s =>
            {
                s.LaterHooksPending = false;
                Record(WorkspaceEventKind.Log, "The lifecycle commands after waitFor finished.");
            };
        }
        catch (Exception) when (cancellationToken.IsCancellationRequested)
        {
            // Stopped, interrupted or deactivated (an exec in a container being stopped fails as well as being cancelled):
            // the next start, or activation, runs what did not finish.
            return;
        }
        catch (WorkspaceFailure failure)
        {
            // As Codespaces does: the IDE stays, and the owner sees what failed.
            outcome = s =>
            {
                s.LaterHooksPending = false;
                s.HookFailure = failure.Message;
                Record(WorkspaceEventKind.Error, $"{failure.Message} The workspace stays up; its IDE works, without what the command would have done.");
            };
        }
        catch (Exception exception)
        {
            // Transient (the engine did not answer, a timeout of its own): nobody awaits this task, so nothing may escape it.
            outcome = ++_laterHooksAttempts < Options.MaxAttempts
                ? _ => Record(WorkspaceEventKind.Warning, $"The lifecycle commands after waitFor stopped ({exception.Message}); they go on at the next health check.")
                : s =>
                {
                    s.LaterHooksPending = false;
                    s.HookFailure = $"The lifecycle commands after waitFor could not run: {exception.Message}";
                    Record(WorkspaceEventKind.Error, $"{s.HookFailure} The workspace stays up.");
                };
        }

        try
        {
            // One change, stored before anyone is told: a write refused by storage leaves them pending, and the next
            // health check runs the survey again (which finds the finished hooks done).
            await ChangeAsync(outcome);
        }
        catch (Exception exception)
        {
            LogLaterHooksPersistFailed(exception, Id);
        }
    }

    /// <summary>What the owner asked to have in the workspace's environment: the variables, and the secrets opened.</summary>
    private Dictionary<string, string> UserEnvironment()
    {
        var environment = new Dictionary<string, string>(S.Spec!.Environment ?? new Dictionary<string, string>(), StringComparer.Ordinal);
        foreach (var (name, sealedValue) in S.Secrets)
        {
            try
            {
                environment[name] = sealer.Open(Id, name, sealedValue);
            }
            catch (System.Security.Cryptography.CryptographicException)
            {
                // Another key than the one that sealed it (Secrets:Key changed): retrying cannot help, and the workspace
                // must not start without what its owner gave it.
                throw new WorkspaceFailure(
                    $"The secret {name} cannot be opened with this platform's Secrets:Key (was the key changed?); delete the workspace and launch it again with the secret.",
                    keepInstanceRunning: false);
            }
        }

        return environment;
    }

    private async Task StopInstanceAsync(CancellationToken cancellationToken)
    {
        if (S.Phase != WorkspacePhase.Stopping)
        {
            // Only a workspace that was Running has files worth keeping: earlier phases may hold half a clone. The stop's
            // snapshot stands for one asked for and not yet taken.
            S.SnapshotOnStop = S.Phase == WorkspacePhase.Running;
            S.SnapshotRequestedBy = null;
            await TransitionAsync(WorkspacePhase.Stopping);
        }

        await runtime.StopAsync(Id, Options.StopGracePeriod, cancellationToken);
        _instance = null;

        // Gitpod's backup on stop, taken once the container has stopped: nothing writes to the files any more (the IDE's
        // logs in the home folder would otherwise change under the engine's archive, which then fails half way).
        if (S.SnapshotOnStop)
        {
            await TrySnapshotAsync("on stop", cancellationToken);
            S.SnapshotOnStop = false;
        }

        await TransitionAsync(WorkspacePhase.Stopped);
    }

    /// <summary>The health check: looks at the container and the IDE, and does what the policy concludes.</summary>
    private async Task<bool> CheckRunningAsync(CancellationToken cancellationToken)
    {
        var instance = await runtime.InspectAsync(Id, cancellationToken);
        _instance = instance;
        bool? ideAnswered = instance is { State: InstanceState.Running } ? await runtime.ProbeIdeAsync(Id, cancellationToken) : null;
        var now = time.GetUtcNow();
        var verdict = WorkspacePolicy.JudgeRunning(new RunningFacts(
            instance, ideAnswered, _ideSilentChecks, now, S.LastActivityAt, S.RunningSince, S.Spec!.IdleTimeout!.Value, Options.MaxLifetime,
            snapshots.IsEnabled, Options.SnapshotInterval, S.SnapshotAttemptedAt, S.SnapshotRequestedBy is not null,
            Options.IdleWarningLeads, S.IdleWarnedLead, S.IdleWarnedAt, S.LastSnapshotAt));
        _ideSilentChecks = verdict.SilentChecks;
        switch (verdict.Kind)
        {
            case RunningVerdictKind.Interrupted:
                S.Interruptions.RemoveAll(at => now - at > Options.InterruptionWindow);
                S.Interruptions.Add(now);
                if (WorkspacePolicy.IsFlapping(S.Interruptions, now, Options.MaxInterruptions, Options.InterruptionWindow))
                {
                    // Starting it again would only fail again: say why and wait for the owner.
                    await FailAsync(string.Create(CultureInfo.InvariantCulture,
                        $"{verdict.Why} It was interrupted {S.Interruptions.Count} times within {Options.InterruptionWindow.TotalMinutes:0} min, so it is not started again by itself (Workspaces:MaxInterruptions); its events say what happened. Start it once the cause is fixed."),
                        keepInstanceRunning: false);
                    return false;
                }

                await TransitionAsync(WorkspacePhase.Interrupted, verdict.Why);
                return true;

            case RunningVerdictKind.WarnIdle:
                S.IdleWarnedLead = verdict.WarnLead;
                S.IdleWarnedAt = now;
                Record(WorkspaceEventKind.Warning, verdict.Why!);
                await PersistAsync();
                return false;

            case RunningVerdictKind.Stop:
                await RequestStopAsync(verdict.Why!, WorkspaceActor.Platform);
                return true;

            case RunningVerdictKind.Snapshot:
                // Rides on the health check rather than a timer of its own: it needs the running container just confirmed.
                // A request stays stored until the snapshot was tried, so that a crash mid-snapshot tries it again.
                var why = S.SnapshotRequestedBy is { } by ? $"asked for by {by}" : "periodic";
                S.SnapshotAttemptedAt = now;
                S.SnapshotRequestedBy = null;
                await TrySnapshotAsync(why, cancellationToken);
                return false;

            default:
                return false;
        }
    }

    /// <summary>A stopped workspace past its retention is deleted (by the platform, saying why); near it, warned once.</summary>
    private async Task CheckRetentionAsync()
    {
        var verdict = WorkspacePolicy.JudgeStopped(
            time.GetUtcNow(), S.PhaseSince, S.Pinned, Options.StoppedRetention, Options.RetentionWarning, S.RetentionWarnedAt);
        switch (verdict.Kind)
        {
            case StoppedVerdictKind.Warn:
                S.RetentionWarnedAt = time.GetUtcNow();
                Record(WorkspaceEventKind.Warning, verdict.Why!);
                await PersistAsync();
                break;
            case StoppedVerdictKind.Delete:
                await ChangeAsync(s =>
                {
                    if (s.Desired != DesiredState.Stopped || s.Pinned)
                    {
                        return false;
                    }

                    s.Desired = DesiredState.Deleted;
                    Record(WorkspaceEventKind.Command, verdict.Why!);
                    return true;
                });
                Dirty();
                break;
        }
    }

    /// <summary>Takes a snapshot; a failure is logged and recorded, never thrown: losing a snapshot must not keep a
    /// workspace from stopping, nor fail a running one.</summary>
    private async Task TrySnapshotAsync(string why, CancellationToken cancellationToken)
    {
        if (!snapshots.IsEnabled)
        {
            return;
        }

        try
        {
            var taken = await snapshots.TakeAsync(Id, cancellationToken);
            S.LastSnapshotAt = time.GetUtcNow();
            Record(WorkspaceEventKind.Snapshot, string.Create(
                CultureInfo.InvariantCulture, $"Snapshot of {WorkspaceSnapshots.Described} taken ({why}): {taken.SizeBytes} bytes."));
        }
        catch (Exception exception) when (!cancellationToken.IsCancellationRequested)
        {
            LogSnapshotFailed(exception, Id, why);
            var message = exception is WorkspaceRuntimeException ? exception.Message : $"{exception.GetType().Name}: {exception.Message}";
            // Nothing is removed for a snapshot that failed: stopped or running, the files stay in the volumes.
            Record(WorkspaceEventKind.Error, $"Snapshot of {WorkspaceSnapshots.Described} ({why}) failed: {message.TrimEnd('.')}. The files stay in the workspace's volumes.");
        }

        await PersistAsync();
    }

    /// <summary>Like a failed snapshot, snapshots that cannot be removed must not keep a workspace from being deleted.</summary>
    private async Task DeleteSnapshotsAsync(CancellationToken cancellationToken)
    {
        try
        {
            await snapshots.DeleteAllAsync(Id, cancellationToken);
        }
        catch (Exception exception) when (!cancellationToken.IsCancellationRequested)
        {
            LogSnapshotDeleteFailed(exception, Id);
            Record(WorkspaceEventKind.Error, $"Removing the snapshots failed: {exception.Message}");
        }
    }

    /// <summary>Asks for Stopped, from a user or from the policy (idle, lifetime). Only a workspace that wants to run
    /// is stopped: a delete acknowledged meanwhile always wins.</summary>
    private async Task RequestStopAsync(string why, string actor)
    {
        var stopped = await ChangeAsync(s =>
        {
            if (s.Desired != DesiredState.Running)
            {
                return false;
            }

            s.Desired = DesiredState.Stopped;
            Record(WorkspaceEventKind.Command, why, actor: actor);
            return true;
        });
        if (stopped)
        {
            await SyncRunSlotAsync();
            Dirty();
        }
    }

    private async Task FailAsync(string reason, bool keepInstanceRunning)
    {
        LogFailed(Id, S.Phase, reason);
        if (!keepInstanceRunning)
        {
            try
            {
                await runtime.StopAsync(Id, Options.StopGracePeriod, CancellationToken.None);
                _instance = null;
            }
            catch (Exception exception)
            {
                LogCleanupFailed(exception, Id);
            }
        }

        if (WorkspaceTransitions.IsLegal(S.Phase, WorkspacePhase.Failed))
        {
            // The slot goes before the phase shows: status reads interleave with this step, and a user who sees
            // Failed may launch another workspace at once. Lost in a crash before the write, the next look takes it again.
            if (!WorkspacePolicy.WantsRunSlot(S.Desired, WorkspacePhase.Failed))
            {
                await Owner.ReleaseRunSlotAsync(Id);
            }

            await TransitionAsync(WorkspacePhase.Failed, reason);
        }

        await SyncRunSlotAsync();
        await SyncReminderAsync();
    }

    // ---- State, events, persistence ----

    private async Task TransitionAsync(WorkspacePhase to, string? reason = null)
    {
        Transition(to, reason);
        await PersistAsync();
    }

    private void Transition(WorkspacePhase to, string? reason)
    {
        if (!WorkspaceTransitions.IsLegal(S.Phase, to))
        {
            throw new InvalidOperationException($"Illegal transition {S.Phase} → {to}.");
        }

        LogTransition(Id, S.Phase, to, reason);
        if (S.Phase == WorkspacePhase.Running && to != WorkspacePhase.Running)
        {
            // Hooks of a container being stopped or replaced: the next start runs them where it left off.
            _laterHooksCancel?.Cancel();
        }

        S.Phase = to;
        S.PhaseSince = time.GetUtcNow();
        S.Reason = reason;
        Record(WorkspaceEventKind.Phase, reason is null ? to.ToString() : $"{to}: {reason}");
    }

    private void Record(WorkspaceEventKind kind, string message, WorkspacePhase? phase = null, string actor = WorkspaceActor.Platform)
    {
        var now = time.GetUtcNow();
        var evt = new WorkspaceEvent(S.NextSequence++, now, kind, phase ?? S.Phase, message, actor);
        if (kind == WorkspaceEventKind.Log)
        {
            RecordLogLine(evt);
            return;
        }

        S.Events.Add(evt);
        if (S.Events.Count > Options.RecentEventCount)
        {
            S.Events.RemoveRange(0, S.Events.Count - Options.RecentEventCount);
        }

        S.UpdatedAt = now;
        S.Version++;
        if (_deferred is not null)
        {
            _deferred.Add(evt);
            return;
        }

        Notify(evt);
    }

    private void Notify(WorkspaceEvent evt)
    {
        _observers.Notify(o => o.OnEvent(Id, evt));
        _routeObservers.Notify(o => o.OnEvent(Id, evt));
    }

    /// <summary>A log line is kept in memory and told to the event subscribers only: it changes neither the workspace's
    /// record (no write, no new version) nor its route.</summary>
    private void RecordLogLine(WorkspaceEvent line)
    {
        _logLines.Add(line);
        _observers.Notify(o => o.OnEvent(Id, line));
        if (line.Sequence > S.SequenceReservedThrough)
        {
            // Rarely: one write per block of lines, so that numbers are never handed out twice.
            S.SequenceReservedThrough = line.Sequence + SequenceBlock;
            _ = ReserveSequencesAsync();
        }
    }

    private async Task ReserveSequencesAsync()
    {
        try
        {
            await PersistAsync();
        }
        catch (Exception exception)
        {
            // The next write carries the mark; until then a crash could reuse at most this block's numbers.
            LogReserveFailed(exception, Id);
        }
    }

    /// <summary>Lines from the runtime arrive on its threads: hand each to the grain's scheduler,
    /// so that the state is only ever touched by one turn at a time.</summary>
    private IProgress<string> Log() => new GrainProgress(this, S.Phase);

    private async Task PersistAsync()
    {
        await _writeLock.WaitAsync();
        try
        {
            await state.WriteStateAsync();
            _persistedActivity = S.LastActivityAt;
        }
        finally
        {
            _writeLock.Release();
        }
    }

    /// <summary>Makes a change of the state as one step: applied, persisted, and undone when the write fails, so that a
    /// command refused by storage changes nothing (the caller answers 503). Changes run one at a time (each sees the one
    /// before it), <paramref name="change"/> may decline by returning false, and its events reach observers only once
    /// stored.</summary>
    private async Task<bool> ChangeAsync(Func<WorkspaceState, bool> change)
    {
        await _writeLock.WaitAsync();
        List<WorkspaceEvent> events;
        bool changed;
        try
        {
            _deferred = [];
            try
            {
                // Numbers go only forwards: log lines told to subscribers during a refused write keep theirs.
                changed = await state.ChangeAsync(copier, change, keep: (abandoned, restored) =>
                {
                    restored.NextSequence = abandoned.NextSequence;
                    restored.SequenceReservedThrough = abandoned.SequenceReservedThrough;
                });
                if (changed)
                {
                    _persistedActivity = S.LastActivityAt;
                }
            }
            finally
            {
                events = _deferred;
                _deferred = null;
            }
        }
        finally
        {
            _writeLock.Release();
        }

        foreach (var evt in events)
        {
            Notify(evt);
        }

        return changed;
    }

    private Task<bool> ChangeAsync(Action<WorkspaceState> change) => ChangeAsync(s =>
    {
        change(s);
        return true;
    });

    /// <summary>The owner's quota slot follows the state: held while the workspace wants to run and has not failed.
    /// Looked at again after each call, since a command may have changed the state meanwhile.</summary>
    private async Task SyncRunSlotAsync()
    {
        for (var i = 0; i < 3; i++)
        {
            var wanted = WantsRunSlot;
            try
            {
                await (wanted ? Owner.AcquireRunSlotAsync(Id) : Owner.ReleaseRunSlotAsync(Id));
            }
            catch (WorkspaceRejectedException e) when (e.Kind == WorkspaceRejection.QuotaExceeded)
            {
                // Taken by another launch in the meantime: this workspace will not start until one is free.
                LogSlotLost(Id);
                return;
            }

            if (wanted == WantsRunSlot)
            {
                return;
            }
        }
    }

    private bool WantsRunSlot => WorkspacePolicy.WantsRunSlot(S.Desired, S.Phase);

    /// <summary>Takes a slot for a launch or a start, repairing the owner's index first when it is full of ids whose
    /// workspaces no longer want (or no longer have) one: a crash or a failed write can leave such an entry behind.</summary>
    private async Task AcquireRunSlotAsync(IOwnerGrain owner)
    {
        try
        {
            await owner.AcquireRunSlotAsync(Id);
        }
        catch (WorkspaceRejectedException e) when (e.Kind == WorkspaceRejection.QuotaExceeded)
        {
            if (!await OwnerIndexRepair.ReleaseStaleSlotsAsync(GrainFactory, owner, Id))
            {
                throw;
            }

            await owner.AcquireRunSlotAsync(Id);
        }
    }

    /// <summary>The durable reminder follows the state: registered while the workspace has somewhere to go, so that a
    /// silo lost on the way wakes it again; removed once it is settled.</summary>
    private async Task SyncReminderAsync()
    {
        await SyncRetentionReminderAsync();
        for (var i = 0; i < 3; i++)
        {
            var wanted = S.Spec is not null && !IsSettled;
            _reminderRegistered ??= await this.GetReminder(ReminderName) is not null;
            if (wanted != _reminderRegistered)
            {
                if (wanted)
                {
                    await this.RegisterOrUpdateReminder(ReminderName, Options.ReminderPeriod, Options.ReminderPeriod);
                }
                else if (await this.GetReminder(ReminderName) is { } reminder)
                {
                    await this.UnregisterReminder(reminder);
                }

                _reminderRegistered = wanted;
            }

            if (wanted == (S.Spec is not null && !IsSettled))
            {
                return;
            }
        }
    }

    /// <summary>A stopped workspace that retention may delete holds a reminder of its own, at least a minute apart (Orleans'
    /// floor), so that it is deleted in time even when nothing activates it.</summary>
    private async Task SyncRetentionReminderAsync()
    {
        var wanted = RetentionApplies;
        var registered = await this.GetReminder(RetentionReminderName);
        if (wanted && registered is null)
        {
            var period = Options.RetentionCheckInterval < TimeSpan.FromMinutes(1) ? TimeSpan.FromMinutes(1) : Options.RetentionCheckInterval;
            await this.RegisterOrUpdateReminder(RetentionReminderName, period, period);
        }
        else if (!wanted && registered is not null)
        {
            await this.UnregisterReminder(registered);
        }
    }

    private void EnsureExists()
    {
        if (S.Spec is null)
        {
            throw new WorkspaceRejectedException(WorkspaceRejection.NotFound, $"No workspace has the id '{Id}'.");
        }
    }

    private void EnsureNotDeleted(string verb)
    {
        if (S.Desired == DesiredState.Deleted || S.Phase is WorkspacePhase.Deleting or WorkspacePhase.Deleted)
        {
            throw new WorkspaceRejectedException(
                WorkspaceRejection.Conflict, $"Cannot {verb} workspace '{Id}': it is {(S.Phase == WorkspacePhase.Deleted ? "deleted" : "being deleted")}.");
        }
    }

    private WorkspaceStatus Status() => new(
        Id,
        S.Spec!,
        S.Phase,
        S.Desired,
        S.Reason,
        urls.Value.For(Id),
        S.Image,
        S.Instance,
        S.CreatedAt,
        S.UpdatedAt,
        S.LastActivityAt,
        [.. _logLines.MergeNewest(S.Events, Options.RecentEventCount)],
        S.Version,
        silo.SiloAddress.ToString(),
        S.Pinned,
        RetentionApplies ? WorkspacePolicy.JudgeStopped(time.GetUtcNow(), S.PhaseSince, S.Pinned, Options.StoppedRetention, Options.RetentionWarning, S.RetentionWarnedAt).DeleteAfter : null,
        S.Phase == WorkspacePhase.Running && (S.LastActivityAt ?? S.RunningSince) is { } active ? WorkspacePolicy.IdleStopAt(active, S.Spec!.IdleTimeout!.Value) : null,
        S.Phase == WorkspacePhase.Running && S.LaterHooksPending,
        S.HookFailure);

    private WorkspaceRoute Route() => new(
        Id,
        S.Spec!.Owner,
        S.Phase,
        S.Desired,
        S.Reason,
        S.Phase == WorkspacePhase.Running ? _instance?.Gateway : null,
        S.GatewaySecret,
        [.. S.PublicPorts],
        S.Version);

    /// <summary>Log lines carry the phase of the step that wrote them, not the phase when they are recorded.</summary>
    private sealed class GrainProgress(WorkspaceGrain grain, WorkspacePhase phase) : IWarningProgress
    {
        public void Report(string value) => Record(WorkspaceEventKind.Log, value);

        public void Warn(string message) => Record(WorkspaceEventKind.Warning, message);

        private void Record(WorkspaceEventKind kind, string message) =>
            _ = Task.Factory.StartNew(
                () => grain.Record(kind, message, phase),
                CancellationToken.None,
                TaskCreationOptions.None,
                grain._scheduler ?? TaskScheduler.Default);
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Workspace {WorkspaceId} created for {Owner} from {RepoUrl}")]
    private partial void LogCreated(string workspaceId, string owner, string repoUrl);

    [LoggerMessage(Level = LogLevel.Information, Message = "Workspace {WorkspaceId}: {From} -> {To} ({Reason})")]
    private partial void LogTransition(string workspaceId, WorkspacePhase from, WorkspacePhase to, string? reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Workspace {WorkspaceId} failed in {Phase}: {Reason}")]
    private partial void LogFailed(string workspaceId, WorkspacePhase phase, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Workspace {WorkspaceId}: snapshot ({Why}) failed")]
    private partial void LogSnapshotFailed(Exception exception, string workspaceId, string why);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Workspace {WorkspaceId}: removing its snapshots failed")]
    private partial void LogSnapshotDeleteFailed(Exception exception, string workspaceId);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Workspace {WorkspaceId}: its run slot was taken by another launch; it waits for a free one")]
    private partial void LogSlotLost(string workspaceId);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Workspace {WorkspaceId}: persisting the end of the lifecycle commands after waitFor failed")]
    private partial void LogLaterHooksPersistFailed(Exception exception, string workspaceId);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Workspace {WorkspaceId}: persisting the reserved sequence numbers of its log lines failed")]
    private partial void LogReserveFailed(Exception exception, string workspaceId);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Workspace {WorkspaceId}: stopping the instance of a failed workspace failed")]
    private partial void LogCleanupFailed(Exception exception, string workspaceId);
}
