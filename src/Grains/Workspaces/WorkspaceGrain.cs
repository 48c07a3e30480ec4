using System.Globalization;
using CloudDevEnv.Grains.Owners;
using CloudDevEnv.Grains.Provisioning;
using CloudDevEnv.Grains.Snapshots;
using Orleans.Placement;
using Orleans.Utilities;

namespace CloudDevEnv.Grains.Workspaces;

/// <summary>One workspace: owns its lifecycle state machine, its backing container or pod, and the
/// timers that reconcile it, reap it when idle and re-activate it after a silo loss.</summary>
/// <remarks>
/// Commands only change the desired state, persist it and return; a grain timer runs the reconcile loop,
/// which compares desired and observed state and takes one idempotent step at a time. The loop is
/// level-triggered: after a crash at any point the next activation repeats the step it was in, and the
/// runtime adopts whatever that step had already created. The timer interleaves with calls so that a
/// status query or a stop is answered during a five-minute image build; a command that changes the
/// desired state cancels the step in flight.
/// </remarks>
[Immovable]
public sealed partial class WorkspaceGrain(
    [PersistentState("workspace", StorageNames.Workspaces)] IPersistentState<WorkspaceState> state,
    WorkspaceProvisioner provisioner,
    WorkspaceSnapshots snapshots,
    IWorkspaceRuntime runtime,
    IOptions<WorkspaceOptions> options,
    IOptions<ProvisioningOptions> provisioning,
    IOptions<WorkspaceUrlOptions> urls,
    TimeProvider time,
    Orleans.Serialization.DeepCopier<WorkspaceState> copier,
    ILogger<WorkspaceGrain> logger) : Grain, IWorkspaceGrain, IRemindable
{
    private const string ReminderName = "reconcile";
    private static readonly TimeSpan ActivityPersistInterval = TimeSpan.FromMinutes(1);

    /// <summary>One failed probe can be a busy moment; three health checks in a row are an IDE that is gone.</summary>
    private const int IdeSilentChecksBeforeRestart = 3;

    /// <summary>Log lines between two writes of the state use sequence numbers from a block reserved in it.</summary>
    private const int SequenceBlock = 1_000;

    private readonly ObserverManager<IWorkspaceObserver> _observers = new(options.Value.ObserverExpiry, logger);
    private readonly ObserverManager<IWorkspaceObserver> _routeObservers = new(options.Value.ObserverExpiry, logger);
    private readonly WorkspaceLogLines _logLines = new(options.Value.LogLineCount);
    private readonly SemaphoreSlim _writeLock = new(1, 1);
    private readonly CancellationTokenSource _lifetime = new();
    private IGrainTimer? _timer;
    private Task _loop = Task.CompletedTask;
    private TaskScheduler? _scheduler;
    private CancellationTokenSource? _step;
    private bool _reconciling;
    private bool _dirty;
    private int _attempts;
    private bool? _reminderRegistered;
    private DateTimeOffset? _persistedActivity;
    private RuntimeInstance? _instance;
    private int _ideSilentChecks;
    private DesiredState? _stepDesired;
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
        _timer = this.RegisterGrainTimer(
            OnTimerAsync,
            new GrainTimerCreationOptions { DueTime = Timeout.InfiniteTimeSpan, Period = Timeout.InfiniteTimeSpan, Interleave = true, KeepAlive = true });

        // Look at the runtime at once: this adopts what a crashed activation left behind.
        if (S.Spec is not null && !IsSettled)
        {
            Schedule(TimeSpan.Zero);
        }

        return base.OnActivateAsync(cancellationToken);
    }

    public override async Task OnDeactivateAsync(DeactivationReason reason, CancellationToken cancellationToken)
    {
        // Steps are idempotent: the next activation repeats the one cut short here.
        await _lifetime.CancelAsync();
        await _loop.WaitAsync(cancellationToken).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing | ConfigureAwaitOptions.ContinueOnCapturedContext);
        await base.OnDeactivateAsync(reason, cancellationToken);
    }

    /// <summary>Nothing to do until a command or the reminder says otherwise.</summary>
    private bool IsSettled =>
        S.Phase == WorkspacePhase.Deleted
        || (S.Phase == WorkspacePhase.Stopped && S.Desired == DesiredState.Stopped)
        || (S.Phase == WorkspacePhase.Failed && S.Desired == DesiredState.Running);

    async Task<WorkspaceStatus> IWorkspaceGrain.CreateAsync(WorkspaceSpec spec)
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
        var owner = GrainFactory.GetGrain<IOwnerGrain>(normalized.Owner);
        await AcquireRunSlotAsync(owner);
        try
        {
            await ChangeAsync(s =>
            {
                var now = time.GetUtcNow();
                s.Spec = normalized;
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
                Record(WorkspaceEventKind.Command, "Start requested.", actor: actor);
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
        return Status();
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

    async Task IWorkspaceGrain.ReportActivityAsync(DateTimeOffset at)
    {
        if (S.Spec is null || (S.LastActivityAt is { } last && last >= at))
        {
            return;
        }

        // The clock of the reporter may run ahead of ours; activity in the future would postpone reaping forever.
        var now = time.GetUtcNow();
        S.LastActivityAt = at > now ? now : at;
        if (_persistedActivity is null || S.LastActivityAt - _persistedActivity >= ActivityPersistInterval)
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
        if (S.Spec is null || IsSettled)
        {
            return SyncReminderAsync();
        }

        Dirty();
        return Task.CompletedTask;
    }

    // ---- The reconcile loop ----

    /// <summary>Asks the loop to look again. The step in flight is cancelled only when it works towards another
    /// desired state than the one now asked for: a stop already under way (taking its snapshot, say) goes on.</summary>
    private void Dirty()
    {
        _dirty = true;
        if (_stepDesired != S.Desired)
        {
            _step?.Cancel();
        }

        Schedule(TimeSpan.Zero);
    }

    private void Schedule(TimeSpan delay) => _timer?.Change(delay, Timeout.InfiniteTimeSpan);

    /// <summary>The timer only starts the loop: a timer callback that ran for the length of an image build
    /// would hold up deactivation, which waits for callbacks before it cancels anything.</summary>
    private Task OnTimerAsync(CancellationToken _)
    {
        if (!_reconciling && S.Spec is not null)
        {
            _reconciling = true;
            _loop = ReconcileLoopAsync(_lifetime.Token);
        }

        return Task.CompletedTask;
    }

    private async Task ReconcileLoopAsync(CancellationToken cancellationToken)
    {
        // Return to the timer first; the rest runs as turns of this activation, between its calls.
        await Task.Yield();
        TimeSpan? next;
        try
        {
            next = await RunStepsAsync(cancellationToken);
        }
        catch (Exception) when (cancellationToken.IsCancellationRequested)
        {
            return;
        }
        catch (Exception exception)
        {
            // Even recording the failure failed (storage down): look again later, changing nothing.
            LogLoopFailed(exception, Id);
            next = Options.MaxRetryDelay;
        }
        finally
        {
            _reconciling = false;
        }

        // A command that arrived while the loop was finishing (after a failure, say) found it busy: go again.
        if (_dirty)
        {
            next = TimeSpan.Zero;
        }

        // A command that arrived while the loop was finishing (e.g. a delete during FailAsync) found _reconciling
        // set, so its timer tick was dropped: look again at once instead of settling on a stale decision.
        if (!cancellationToken.IsCancellationRequested && (next is not null || _dirty))
        {
            Schedule(_dirty ? TimeSpan.Zero : next!.Value);
        }
    }

    /// <returns>When to look again, or null when the workspace is settled.</returns>
    private async Task<TimeSpan?> RunStepsAsync(CancellationToken cancellationToken)
    {
        while (!cancellationToken.IsCancellationRequested)
        {
            _dirty = false;
            if (PastDeadline() is { } late)
            {
                await FailAsync(late, keepInstanceRunning: false);
                return null;
            }

            // The step is cut short when a command wants another desired state, or at its phase's deadline.
            using var deadline = new CancellationTokenSource(DeadlineLeft() ?? Timeout.InfiniteTimeSpan, time);
            using var step = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, deadline.Token);
            _step = step;
            bool progressed;
            try
            {
                _stepDesired = S.Desired;
                progressed = await StepAsync(step.Token);
                _attempts = 0;
            }
            catch (OperationCanceledException) when (step.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
            {
                // A command changed the desired state mid-step, or the deadline passed: look again at once.
                continue;
            }
            catch (WorkspaceFailure failure)
            {
                await FailAsync(failure.Message, failure.KeepInstanceRunning);
                return null;
            }
            catch (WorkspaceRuntimeException failure) when (failure.IsPermanent)
            {
                await FailAsync(failure.Message, keepInstanceRunning: false);
                return null;
            }
            catch (Exception exception) when (!cancellationToken.IsCancellationRequested && IsTransient(exception))
            {
                return await RetryLaterAsync(exception);
            }
            catch (Exception exception) when (!cancellationToken.IsCancellationRequested)
            {
                // A fault of the platform's own (an illegal transition, a bug): retrying would only repeat it.
                LogInternalError(exception, Id, S.Phase);
                await FailAsync($"The platform hit an internal error while {Describe(S.Phase)} ({exception.Message}); it has been logged.", keepInstanceRunning: false);
                return null;
            }
            finally
            {
                _step = null;
            }

            if (!progressed && !_dirty)
            {
                break;
            }
        }

        return S.Phase == WorkspacePhase.Running ? Options.HealthCheckInterval : null;
    }

    private async Task<TimeSpan?> RetryLaterAsync(Exception exception)
    {
        _attempts++;
        var message = exception.Message;
        if (_attempts >= Options.MaxAttempts)
        {
            await FailAsync($"{message} (gave up after {_attempts} attempts)", keepInstanceRunning: false);
            return null;
        }

        var delay = TimeSpan.FromTicks(Math.Min(Options.MaxRetryDelay.Ticks, Options.RetryDelay.Ticks << Math.Min(_attempts - 1, 20)));
        LogStepFailed(exception, Id, S.Phase, _attempts, delay);
        Record(WorkspaceEventKind.Error, $"{S.Phase} failed: {message}. Retrying in {delay.TotalSeconds:0.#} s (attempt {_attempts} of {Options.MaxAttempts}).");
        await PersistAsync();
        return delay;
    }

    /// <summary>Takes one step towards the desired state.</summary>
    /// <returns>True when another step may follow at once.</returns>
    private async Task<bool> StepAsync(CancellationToken cancellationToken)
    {
        var spec = S.Spec!;
        switch (S.Desired, S.Phase)
        {
            case (_, WorkspacePhase.Deleted):
                return false;

            case (DesiredState.Deleted, _):
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

            case (DesiredState.Stopped, WorkspacePhase.Stopped):
                await SyncReminderAsync();
                return false;

            case (DesiredState.Stopped, _):
                await StopInstanceAsync(cancellationToken);
                return true;

            case (DesiredState.Running, WorkspacePhase.Pending or WorkspacePhase.Building):
                if (S.Phase == WorkspacePhase.Pending)
                {
                    await TransitionAsync(WorkspacePhase.Building);
                }

                var launch = await provisioner.ResolveAsync(Id, spec, Log(), cancellationToken);
                S.Image = launch.Image;
                S.Plan = launch.Plan;
                await TransitionAsync(WorkspacePhase.Creating);
                return true;

            case (DesiredState.Running, WorkspacePhase.Creating):
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

            case (DesiredState.Running, WorkspacePhase.Initializing):
                // A fresh instance (removed behind our back, or on another machine) gets its files back from the
                // latest snapshot instead of a clone; InitializeAsync then finds the clone there and runs postStart only.
                if (await snapshots.RestoreIfEmptyAsync(Id, cancellationToken) is { } restored)
                {
                    Record(WorkspaceEventKind.Snapshot, string.Create(
                        CultureInfo.InvariantCulture,
                        $"Restored {WorkspaceSnapshots.Folder} from the snapshot taken at {restored.TakenAt:u} ({restored.SizeBytes} bytes) instead of cloning."));
                    await PersistAsync();
                }

                await provisioner.InitializeAsync(Id, spec, S.Image, S.Plan, Log(), cancellationToken);
                _instance = await runtime.InspectAsync(Id, cancellationToken);
                var now = time.GetUtcNow();
                S.RunningSince = now;
                S.LastActivityAt = now;
                await TransitionAsync(WorkspacePhase.Running);
                return true;

            case (DesiredState.Running, WorkspacePhase.Running):
                return await CheckRunningAsync(cancellationToken);

            case (DesiredState.Running, WorkspacePhase.Interrupted):
                await TransitionAsync(WorkspacePhase.Creating, "Starting the workspace again.");
                return true;

            case (DesiredState.Running, WorkspacePhase.Stopping):
                // Finish the stop that was under way, then start from Stopped.
                await StopInstanceAsync(cancellationToken);
                return true;

            case (DesiredState.Running, WorkspacePhase.Stopped):
                await TransitionAsync(S.Image is null ? WorkspacePhase.Pending : WorkspacePhase.Creating);
                return true;

            default:
                // Failed while Running is desired: wait for the owner to start it again.
                return false;
        }
    }

    private async Task StopInstanceAsync(CancellationToken cancellationToken)
    {
        // Only a workspace that was Running has files worth keeping: earlier phases may hold half a clone.
        var snapshot = S.Phase == WorkspacePhase.Running;
        if (S.Phase != WorkspacePhase.Stopping)
        {
            await TransitionAsync(WorkspacePhase.Stopping);
        }

        // Gitpod's backup on stop: taken while the container still runs, so the files are as the user left them.
        if (snapshot)
        {
            await TrySnapshotAsync("on stop", cancellationToken);
        }

        await runtime.StopAsync(Id, Options.StopGracePeriod, cancellationToken);
        _instance = null;
        await TransitionAsync(WorkspacePhase.Stopped);
    }

    /// <summary>A running workspace whose container died is Interrupted; one idle or alive too long is stopped.</summary>
    private async Task<bool> CheckRunningAsync(CancellationToken cancellationToken)
    {
        var instance = await runtime.InspectAsync(Id, cancellationToken);
        _instance = instance;
        if (instance is not { State: InstanceState.Running })
        {
            var why = instance is null
                ? "Its container disappeared."
                : $"Its container stopped{(instance.ExitCode is { } code ? $" with exit code {code}" : string.Empty)}.";
            await TransitionAsync(WorkspacePhase.Interrupted, why);
            return true;
        }

        // The container can outlive its IDE (code-server crashed or was killed inside): after a few silent checks
        // in a row, start again, which restarts the IDE in the same container without touching the files.
        _ideSilentChecks = await runtime.ProbeIdeAsync(Id, cancellationToken) ? 0 : _ideSilentChecks + 1;
        if (_ideSilentChecks >= IdeSilentChecksBeforeRestart)
        {
            _ideSilentChecks = 0;
            await TransitionAsync(WorkspacePhase.Interrupted, "The IDE stopped answering.");
            return true;
        }

        var now = time.GetUtcNow();
        var idle = S.Spec!.IdleTimeout!.Value;
        if (now - (S.LastActivityAt ?? S.RunningSince ?? now) >= idle)
        {
            await RequestStopAsync($"Stopping: no activity for {idle.TotalMinutes:0} min.", WorkspaceActor.Platform);
            return true;
        }

        if (S.RunningSince is { } since && now - since >= Options.MaxLifetime)
        {
            await RequestStopAsync($"Stopping: running for the maximum of {Options.MaxLifetime.TotalHours:0.#} h.", WorkspaceActor.Platform);
            return true;
        }

        await SnapshotIfDueAsync(now, cancellationToken);
        return false;
    }

    /// <summary>The periodic snapshot rides on the health check rather than a timer of its own: it needs a running
    /// container, which the check has just confirmed, and it keeps one timer per grain.</summary>
    private async Task SnapshotIfDueAsync(DateTimeOffset now, CancellationToken cancellationToken)
    {
        var interval = Options.SnapshotInterval;
        if (interval <= TimeSpan.Zero || !snapshots.IsEnabled)
        {
            return;
        }

        // Counted from the last attempt of this run, or from the start of the run.
        var since = S.SnapshotAttemptedAt is { } attempted && attempted > S.RunningSince ? attempted : S.RunningSince ?? now;
        if (now - since < interval)
        {
            return;
        }

        S.SnapshotAttemptedAt = now;
        await TrySnapshotAsync("periodic", cancellationToken);
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
            Record(WorkspaceEventKind.Snapshot, string.Create(
                CultureInfo.InvariantCulture, $"Snapshot of {WorkspaceSnapshots.Folder} taken ({why}): {taken.SizeBytes} bytes."));
        }
        catch (Exception exception) when (!cancellationToken.IsCancellationRequested)
        {
            LogSnapshotFailed(exception, Id, why);
            var message = exception is WorkspaceRuntimeException ? exception.Message : $"{exception.GetType().Name}: {exception.Message}";
            Record(WorkspaceEventKind.Error, $"Snapshot of {WorkspaceSnapshots.Folder} ({why}) failed: {message}");
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
            await TransitionAsync(WorkspacePhase.Failed, reason);
        }

        _attempts = 0;
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
        try
        {
            var before = copier.Copy(state.State);
            _deferred = [];
            try
            {
                if (!change(state.State))
                {
                    return false;
                }

                await state.WriteStateAsync();
                _persistedActivity = S.LastActivityAt;
            }
            catch
            {
                // Numbers go only forwards: log lines told to subscribers during the write keep theirs.
                var (next, reserved) = (S.NextSequence, S.SequenceReservedThrough);
                state.State = before;
                (S.NextSequence, S.SequenceReservedThrough) = (next, reserved);
                throw;
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

        return true;
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

    private bool WantsRunSlot => S.Desired == DesiredState.Running && S.Phase != WorkspacePhase.Failed;

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

    /// <summary>Why the current phase has lasted too long, or null.</summary>
    private string? PastDeadline()
    {
        var limit = Options.Deadlines.For(S.Phase);
        return limit is { } d && S.PhaseSince is { } since && time.GetUtcNow() - since >= d
            ? $"{S.Phase} did not finish within {(d >= TimeSpan.FromMinutes(1) ? $"{d.TotalMinutes:0.#} min" : $"{d.TotalSeconds:0.#} s")} (Workspaces:Deadlines:{S.Phase})."
            : null;
    }

    private TimeSpan? DeadlineLeft()
    {
        var limit = Options.Deadlines.For(S.Phase);
        if (limit is not { } d)
        {
            return null;
        }

        var left = d - (time.GetUtcNow() - (S.PhaseSince ?? time.GetUtcNow()));
        return left > TimeSpan.Zero ? left : TimeSpan.Zero;
    }

    /// <summary>Worth retrying: the engine, the network or storage had a moment; the rest is the platform's own fault.</summary>
    private static bool IsTransient(Exception exception) =>
        exception is WorkspaceRuntimeException or IOException or TimeoutException or OrleansException or HttpRequestException;

    private static string Describe(WorkspacePhase phase) => phase switch
    {
        WorkspacePhase.Building => "building the image",
        WorkspacePhase.Creating => "creating the container",
        WorkspacePhase.Initializing => "cloning the repository and starting the IDE",
        WorkspacePhase.Stopping => "stopping",
        WorkspacePhase.Deleting => "deleting",
        _ => phase.ToString().ToLowerInvariant(),
    };

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
        S.Version);

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
    private sealed class GrainProgress(WorkspaceGrain grain, WorkspacePhase phase) : IProgress<string>
    {
        public void Report(string value) =>
            _ = Task.Factory.StartNew(
                () => grain.Record(WorkspaceEventKind.Log, value, phase),
                CancellationToken.None,
                TaskCreationOptions.None,
                grain._scheduler ?? TaskScheduler.Default);
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Workspace {WorkspaceId} created for {Owner} from {RepoUrl}")]
    private partial void LogCreated(string workspaceId, string owner, string repoUrl);

    [LoggerMessage(Level = LogLevel.Information, Message = "Workspace {WorkspaceId}: {From} -> {To} ({Reason})")]
    private partial void LogTransition(string workspaceId, WorkspacePhase from, WorkspacePhase to, string? reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Workspace {WorkspaceId}: step {Phase} failed (attempt {Attempt}); retrying in {Delay}")]
    private partial void LogStepFailed(Exception exception, string workspaceId, WorkspacePhase phase, int attempt, TimeSpan delay);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Workspace {WorkspaceId} failed in {Phase}: {Reason}")]
    private partial void LogFailed(string workspaceId, WorkspacePhase phase, string reason);

    [LoggerMessage(Level = LogLevel.Error, Message = "Workspace {WorkspaceId}: the reconcile loop failed; looking again later")]
    private partial void LogLoopFailed(Exception exception, string workspaceId);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Workspace {WorkspaceId}: snapshot ({Why}) failed")]
    private partial void LogSnapshotFailed(Exception exception, string workspaceId, string why);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Workspace {WorkspaceId}: removing its snapshots failed")]
    private partial void LogSnapshotDeleteFailed(Exception exception, string workspaceId);

    [LoggerMessage(Level = LogLevel.Error, Message = "Workspace {WorkspaceId}: internal error in {Phase}")]
    private partial void LogInternalError(Exception exception, string workspaceId, WorkspacePhase phase);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Workspace {WorkspaceId}: its run slot was taken by another launch; it waits for a free one")]
    private partial void LogSlotLost(string workspaceId);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Workspace {WorkspaceId}: persisting the reserved sequence numbers of its log lines failed")]
    private partial void LogReserveFailed(Exception exception, string workspaceId);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Workspace {WorkspaceId}: stopping the instance of a failed workspace failed")]
    private partial void LogCleanupFailed(Exception exception, string workspaceId);
}
