using System.Security.Cryptography;
using System.Text;
using CloudDevEnv.Contracts.Prebuilds;
using CloudDevEnv.Grains.Provisioning;
using CloudDevEnv.Grains.Workspaces;

namespace CloudDevEnv.Grains.Prebuilds;

/// <summary>Builds one repository's prebuild at one ref, as Codespaces' prebuilds do: the launch's own steps (image,
/// features, clone) in an instance without volumes, then onCreateCommand and updateContentCommand; the instance is
/// saved as an image, pushed to <see cref="PrebuildOptions.Registry"/> and registered for the repository, ref and
/// devcontainer.json hash, and removed. The build runs beside the grain's calls, so that its status can be read while
/// it runs; a build cut short by its silo's end is reported as failed when the grain next wakes. With
/// <see cref="PrebuildOptions.RefreshInterval"/> a reminder builds it again on that schedule for as long as the
/// registration is the one built here (a workflow's registration, or its removal, ends that).</summary>
public sealed partial class PrebuildBuildGrain(
    [PersistentState("prebuild-build", StorageNames.Workspaces)] IPersistentState<PrebuildBuildState> state,
    WorkspaceProvisioner provisioner,
    IWorkspaceRuntime runtime,
    IOptions<PrebuildOptions> prebuildOptions,
    IOptions<WorkspaceOptions> workspaceOptions,
    TimeProvider time,
    ILogger<PrebuildBuildGrain> logger) : Grain, IPrebuildBuildGrain, IRemindable
{
    private const string RefreshReminderName = "refresh";

    /// <summary>Who a scheduled rebuild is requested by, in its status.</summary>
    public const string ScheduleRequester = "schedule";

    /// <summary>The events kept of one build: its last ones (a chatty hook must not grow the state without bound).</summary>
    private const int MaxEvents = 500;

    private readonly List<string> _events = [];
    private long _eventsDropped;
    private Task _build = Task.CompletedTask;

    private PrebuildOptions Options => prebuildOptions.Value;

    public override async Task OnActivateAsync(CancellationToken cancellationToken)
    {
        if (state.State.Latest is { Phase: PrebuildBuildPhase.Building } interrupted)
        {
            state.State.Latest = interrupted with
            {
                Phase = PrebuildBuildPhase.Failed,
                FinishedAt = time.GetUtcNow(),
                Reason = "The build was interrupted: the silo that ran it stopped. Start it again.",
            };
            await state.WriteStateAsync(cancellationToken);
        }
    }

    public async Task<PrebuildBuildStatus> StartAsync(string requestedBy)
    {
        if (!_build.IsCompleted)
        {
            return Current()!;
        }

        var (repoUrl, gitRef) = PrebuildBuildKey.Parse(this.GetPrimaryKeyString());
        if (!RepositoryUrl.TryParse(repoUrl, workspaceOptions.Value.LocalRepoRoots, out _, out var error))
        {
            throw new WorkspaceRejectedException(WorkspaceRejection.Invalid, error, "repoUrl");
        }

        if (gitRef is not null && !GitRef.IsValid(gitRef))
        {
            throw new WorkspaceRejectedException(WorkspaceRejection.Invalid,
                "ref must be a branch or tag name (letters, digits, '.', '_', '-', '/' and '+'; not starting with '-').", "ref");
        }

        if (string.IsNullOrEmpty(Options.Registry))
        {
            throw new WorkspaceRejectedException(WorkspaceRejection.Conflict,
                "This platform builds no prebuilds: no registry to push them to is configured (Prebuilds:Registry). Register those of a prebuild workflow instead (POST /api/prebuilds).");
        }

        var status = await BeginAsync(repoUrl, gitRef, requestedBy, refresh: false);
        if (Options.RefreshInterval is { } interval)
        {
            await this.RegisterOrUpdateReminder(RefreshReminderName, interval, interval);
        }

        return status;
    }

    public async Task<PrebuildBuildStatus?> RefreshAsync(string requestedBy)
    {
        if (!_build.IsCompleted)
        {
            return Current();
        }

        if (!await IsOursAsync())
        {
            return null;
        }

        var (repoUrl, gitRef) = PrebuildBuildKey.Parse(this.GetPrimaryKeyString());
        return await BeginAsync(repoUrl, gitRef, requestedBy, refresh: true);
    }

    async Task IRemindable.ReceiveReminder(string reminderName, TickStatus status)
    {
        if (reminderName != RefreshReminderName)
        {
            return;
        }

        if (Options.RefreshInterval is null || string.IsNullOrEmpty(Options.Registry) || await RefreshAsync(ScheduleRequester) is null)
        {
            // Refreshing was turned off, or the prebuild is no longer this grain's: the schedule ends with it.
            LogRefreshEnded(this.GetPrimaryKeyString());
            if (await this.GetReminder(RefreshReminderName) is { } reminder)
            {
                await this.UnregisterReminder(reminder);
            }
        }
    }

    /// <summary>Whether the repository's registration for this ref is the image built here last, or (no build here has
    /// succeeded yet) there is none: the prebuild is this grain's to build again.</summary>
    private async Task<bool> IsOursAsync()
    {
        if (state.State.Latest is null)
        {
            return false;
        }

        var (repoUrl, gitRef) = PrebuildBuildKey.Parse(this.GetPrimaryKeyString());
        var registered = await GrainFactory.GetGrain<IPrebuildRegistryGrain>(repoUrl).FindAsync(gitRef);
        return registered is null ? state.State.LastImage is null : registered.Image == state.State.LastImage;
    }

    /// <param name="refresh">A rebuild nobody asked for by hand (a push, the schedule): it registers its image only if the
    /// prebuild is still this grain's when it is done, so that it never replaces a workflow's registered meanwhile.</param>
    private async Task<PrebuildBuildStatus> BeginAsync(string repoUrl, string? gitRef, string requestedBy, bool refresh)
    {
        lock (_events)
        {
            _events.Clear();
            _eventsDropped = 0;
        }

        state.State.Latest = new PrebuildBuildStatus(repoUrl, gitRef, PrebuildBuildPhase.Building, requestedBy, time.GetUtcNow(), null, null, null, []);
        await state.WriteStateAsync();
        DelayDeactivation(Options.BuildTimeout + TimeSpan.FromMinutes(5));
        _build = BuildAsync(repoUrl, gitRef, requestedBy, refresh);
        return Current()!;
    }

    public Task<PrebuildBuildStatus?> GetAsync() => Task.FromResult(Current());

    private PrebuildBuildStatus? Current()
    {
        if (state.State.Latest is not { Phase: PrebuildBuildPhase.Building } building)
        {
            return state.State.Latest;
        }

        lock (_events)
        {
            return building with { Events = [.. _events], EventsDropped = _eventsDropped };
        }
    }

    private async Task BuildAsync(string repoUrl, string? gitRef, string requestedBy, bool refresh)
    {
        // An id of the workspace kind (a DNS label) that no workspace has: reconciliation removes what a crash leaves.
        var id = "prebuild-" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(6));
        var log = new EventLog(this);
        var defaults = workspaceOptions.Value;
        var spec = new WorkspaceSpec(repoUrl, gitRef, requestedBy, Image: null, new ResourceLimits(defaults.DefaultCpus, defaults.DefaultMemoryBytes), IdleTimeout: null);
        using var timeout = new CancellationTokenSource(Options.BuildTimeout);
        PrebuildBuildStatus outcome;
        try
        {
            LogStarted(repoUrl, gitRef ?? "(default branch)", id);
            var launch = await provisioner.ResolveAsync(id, spec, log, timeout.Token, usePrebuild: false);
            await provisioner.PrebuildAsync(id, spec, launch, log, timeout.Token);
            var save = new ImageSave(launch.Image.Image, RepositoryOf(repoUrl), launch.ConfigHash?[..20] ?? "no-devcontainer-json", new Dictionary<string, string>
            {
                ["dev.clouddevenv.prebuild.repository"] = repoUrl,
                ["dev.clouddevenv.prebuild.ref"] = gitRef ?? string.Empty,
            });
            var digest = await runtime.SaveImageAsync(id, save, log, timeout.Token);
            if (refresh && !await IsOursAsync())
            {
                throw new WorkspaceFailure(
                    $"Another prebuild was registered for {repoUrl} at {gitRef ?? "the default branch"} while this one was built: {digest} is pushed but not registered, and this platform stops rebuilding it.",
                    keepInstanceRunning: false);
            }

            await GrainFactory.GetGrain<IPrebuildRegistryGrain>(repoUrl).RegisterAsync(new PrebuildRequest(gitRef, digest, launch.ConfigHash, requestedBy));
            log.Report($"Registered the prebuild {digest} for {repoUrl} at {gitRef ?? "the default branch"}.");
            outcome = state.State.Latest! with { Phase = PrebuildBuildPhase.Succeeded, Image = digest };
            state.State.LastImage = digest;
            LogSucceeded(repoUrl, gitRef ?? "(default branch)", digest);
        }
        catch (Exception e)
        {
            var reason = e switch
            {
                OperationCanceledException when timeout.IsCancellationRequested =>
                    $"The build took longer than {Options.BuildTimeout.TotalMinutes:0} min (Prebuilds:BuildTimeout) and was stopped.",
                WorkspaceFailure or WorkspaceRuntimeException or WorkspaceRejectedException => e.Message,
                _ => $"The build failed: {e.Message}",
            };
            log.Report(reason);
            outcome = state.State.Latest! with { Phase = PrebuildBuildPhase.Failed, Reason = reason };
            LogFailed(repoUrl, gitRef ?? "(default branch)", e);
        }
        finally
        {
            try
            {
                await runtime.DeleteAsync(id, CancellationToken.None);
            }
            catch (Exception e)
            {
                // Reconciliation at the next start removes it (no workspace claims its id).
                LogNotRemoved(id, e);
            }
        }

        lock (_events)
        {
            outcome = outcome with { FinishedAt = time.GetUtcNow(), Events = [.. _events], EventsDropped = _eventsDropped };
        }

        state.State.Latest = outcome;
        await state.WriteStateAsync();
    }

    /// <summary>The registry repository of a source repository's prebuilds: its name, readable, and a hash of its whole
    /// URL, so that two repositories of one name never share one.</summary>
    private string RepositoryOf(string repoUrl)
    {
        var name = repoUrl.TrimEnd('/');
        name = name[(name.LastIndexOf('/') + 1)..];
        if (name.EndsWith(".git", StringComparison.Ordinal))
        {
            name = name[..^4];
        }

        var readable = new string([.. name.ToLowerInvariant().Select(c => c is >= 'a' and <= 'z' or >= '0' and <= '9' ? c : '-')]).Trim('-');
        var key = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(repoUrl)))[..12];
        return $"{Options.Registry}/{(readable.Length == 0 ? "repo" : readable[..Math.Min(readable.Length, 40)].Trim('-'))}-{key}";
    }

    private sealed class EventLog(PrebuildBuildGrain grain) : IProgress<string>
    {
        public void Report(string value)
        {
            lock (grain._events)
            {
                grain._events.Add(value);
                if (grain._events.Count > MaxEvents)
                {
                    grain._eventsDropped += grain._events.Count - MaxEvents;
                    grain._events.RemoveRange(0, grain._events.Count - MaxEvents);
                }
            }
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Prebuild of {RepoUrl} at {Ref}: building in {InstanceId}")]
    private partial void LogStarted(string repoUrl, string @ref, string instanceId);

    [LoggerMessage(Level = LogLevel.Information, Message = "Prebuild of {RepoUrl} at {Ref}: pushed and registered {Image}")]
    private partial void LogSucceeded(string repoUrl, string @ref, string image);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Prebuild of {RepoUrl} at {Ref} failed")]
    private partial void LogFailed(string repoUrl, string @ref, Exception exception);

    [LoggerMessage(Level = LogLevel.Information, Message = "Prebuild {Key}: scheduled rebuilds end (refreshing is off, or its registration is no longer the one built here)")]
    private partial void LogRefreshEnded(string key);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Prebuild instance {InstanceId} could not be removed; reconciliation removes it at the next start")]
    private partial void LogNotRemoved(string instanceId, Exception exception);
}
