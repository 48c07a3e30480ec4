using CloudDevEnv.Grains.Provisioning;

namespace CloudDevEnv.Grains.Workspaces;

/// <summary>What a reconcile loop drives: the grain, seen through the few things the loop needs of it.</summary>
internal interface IReconcileTarget
{
    /// <summary>False until the workspace exists: the loop has nothing to look at.</summary>
    bool Exists { get; }

    /// <summary>What the step in flight works towards (the desired state): a command that asks for another cancels it.</summary>
    DesiredState Intent { get; }

    /// <summary>Why the current phase has lasted too long, or null.</summary>
    string? PastDeadline();

    /// <summary>How long the current phase's step may still run, or null.</summary>
    TimeSpan? DeadlineLeft();

    /// <summary>Takes one idempotent step.</summary>
    /// <returns>True when another may follow at once.</returns>
    Task<bool> StepAsync(CancellationToken cancellationToken);

    /// <summary>When to look again once the steps are done, or null when the workspace is settled.</summary>
    TimeSpan? NextLook();

    Task FailAsync(string reason, bool keepInstanceRunning);

    /// <summary>Records that the step failed and is retried after <paramref name="delay"/>.</summary>
    Task RetryingAsync(Exception exception, int attempt, TimeSpan delay);

    /// <summary>The current step in words, for a failure's message ("building the image").</summary>
    string DescribeStep();
}

/// <summary>The plumbing of a grain's reconcile loop: one timer that starts it, one loop running at a time, a dirty flag
/// so that a command arriving mid-step is looked at, the step's cancellation (by a command that wants something else,
/// or by the phase's deadline), retries with backoff for transient errors, and at once a failure for the rest.</summary>
/// <remarks>The loop runs as turns of the activation (started from an interleaving timer, so that a status query or a
/// stop is answered during a five-minute build), never inside the timer's callback: deactivation waits for callbacks
/// before it cancels anything.</remarks>
internal sealed partial class ReconcileLoop(IReconcileTarget target, WorkspaceOptions options, TimeProvider time, string id, ILogger logger)
{
    private readonly CancellationTokenSource _lifetime = new();
    private IGrainTimer? _timer;
    private Task _running = Task.CompletedTask;
    private CancellationTokenSource? _step;
    private DesiredState? _stepIntent;
    private bool _reconciling;
    private bool _dirty;
    private int _attempts;

    /// <summary>Registers the loop's timer on the activation; looks at once when <paramref name="lookNow"/>.</summary>
    public void Start(IGrainBase grain, bool lookNow)
    {
        _timer = grain.RegisterGrainTimer(
            OnTimerAsync,
            new GrainTimerCreationOptions { DueTime = Timeout.InfiniteTimeSpan, Period = Timeout.InfiniteTimeSpan, Interleave = true, KeepAlive = true });
        if (lookNow)
        {
            Schedule(TimeSpan.Zero);
        }
    }

    /// <summary>Ends the loop with the activation: the step in flight is cancelled (steps are idempotent, the next
    /// activation repeats it).</summary>
    public async Task StopAsync(CancellationToken cancellationToken)
    {
        await _lifetime.CancelAsync();
        await _running.WaitAsync(cancellationToken).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing | ConfigureAwaitOptions.ContinueOnCapturedContext);
    }

    /// <summary>Asks the loop to look again. The step in flight is cancelled only when it works towards another desired
    /// state than the one now asked for: a stop already under way (taking its snapshot, say) goes on.</summary>
    public void Dirty()
    {
        _dirty = true;
        if (_stepIntent != target.Intent)
        {
            _step?.Cancel();
        }

        Schedule(TimeSpan.Zero);
    }

    private void Schedule(TimeSpan delay) => _timer?.Change(delay, Timeout.InfiniteTimeSpan);

    private Task OnTimerAsync(CancellationToken _)
    {
        if (!_reconciling && target.Exists)
        {
            _reconciling = true;
            _running = RunAsync(_lifetime.Token);
        }

        return Task.CompletedTask;
    }

    private async Task RunAsync(CancellationToken cancellationToken)
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
            LogLoopFailed(exception, id);
            next = options.MaxRetryDelay;
        }
        finally
        {
            _reconciling = false;
        }

        // A command that arrived while the loop was finishing found it busy, and its tick was dropped: look again at once
        // instead of settling on a stale decision.
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
            if (target.PastDeadline() is { } late)
            {
                await FailAsync(late, keepInstanceRunning: false);
                return null;
            }

            using var deadline = new CancellationTokenSource(target.DeadlineLeft() ?? Timeout.InfiniteTimeSpan, time);
            using var step = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, deadline.Token);
            _step = step;
            bool progressed;
            try
            {
                _stepIntent = target.Intent;
                progressed = await target.StepAsync(step.Token);
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
                LogInternalError(exception, id, target.DescribeStep());
                await FailAsync($"The platform hit an internal error while {target.DescribeStep()} ({exception.Message}); it has been logged.", keepInstanceRunning: false);
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

        return target.NextLook();
    }

    private async Task<TimeSpan?> RetryLaterAsync(Exception exception)
    {
        _attempts++;
        if (_attempts >= options.MaxAttempts)
        {
            await FailAsync($"{exception.Message} (gave up after {_attempts} attempts)", keepInstanceRunning: false);
            return null;
        }

        var delay = WorkspacePolicy.RetryDelay(_attempts, options.RetryDelay, options.MaxRetryDelay);
        LogStepFailed(exception, id, target.DescribeStep(), _attempts, delay);
        await target.RetryingAsync(exception, _attempts, delay);
        return delay;
    }

    private async Task FailAsync(string reason, bool keepInstanceRunning)
    {
        await target.FailAsync(reason, keepInstanceRunning);
        _attempts = 0;
    }

    /// <summary>Worth retrying: the engine, the network or storage had a moment; the rest is the platform's own fault.</summary>
    private static bool IsTransient(Exception exception) =>
        exception is WorkspaceRuntimeException or IOException or TimeoutException or OrleansException or HttpRequestException;

    [LoggerMessage(Level = LogLevel.Warning, Message = "Workspace {WorkspaceId}: {Step} failed (attempt {Attempt}); retrying in {Delay}")]
    private partial void LogStepFailed(Exception exception, string workspaceId, string step, int attempt, TimeSpan delay);

    [LoggerMessage(Level = LogLevel.Error, Message = "Workspace {WorkspaceId}: the reconcile loop failed; looking again later")]
    private partial void LogLoopFailed(Exception exception, string workspaceId);

    [LoggerMessage(Level = LogLevel.Error, Message = "Workspace {WorkspaceId}: internal error while {Step}")]
    private partial void LogInternalError(Exception exception, string workspaceId, string step);
}
