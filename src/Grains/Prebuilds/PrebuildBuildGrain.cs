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
/// it runs; a build cut short by its silo's end is reported as failed when the grain next wakes.</summary>
public sealed partial class PrebuildBuildGrain(
    [PersistentState("prebuild-build", StorageNames.Workspaces)] IPersistentState<PrebuildBuildState> state,
    WorkspaceProvisioner provisioner,
    IWorkspaceRuntime runtime,
    IOptions<PrebuildOptions> prebuildOptions,
    IOptions<WorkspaceOptions> workspaceOptions,
    TimeProvider time,
    ILogger<PrebuildBuildGrain> logger) : Grain, IPrebuildBuildGrain
{
    /// <summary>The events kept of one build: its last ones (a chatty hook must not grow the state without bound).</summary>
    private const int MaxEvents = 500;

    private readonly List<string> _events = [];
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

        lock (_events)
        {
            _events.Clear();
        }

        state.State.Latest = new PrebuildBuildStatus(repoUrl, gitRef, PrebuildBuildPhase.Building, requestedBy, time.GetUtcNow(), null, null, null, []);
        await state.WriteStateAsync();
        DelayDeactivation(Options.BuildTimeout + TimeSpan.FromMinutes(5));
        _build = BuildAsync(repoUrl, gitRef, requestedBy);
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
            return building with { Events = [.. _events] };
        }
    }

    private async Task BuildAsync(string repoUrl, string? gitRef, string requestedBy)
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
            await GrainFactory.GetGrain<IPrebuildRegistryGrain>(repoUrl).RegisterAsync(new PrebuildRequest(gitRef, digest, launch.ConfigHash, requestedBy));
            log.Report($"Registered the prebuild {digest} for {repoUrl} at {gitRef ?? "the default branch"}.");
            outcome = state.State.Latest! with { Phase = PrebuildBuildPhase.Succeeded, Image = digest };
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
            outcome = outcome with { FinishedAt = time.GetUtcNow(), Events = [.. _events] };
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

    [LoggerMessage(Level = LogLevel.Warning, Message = "Prebuild instance {InstanceId} could not be removed; reconciliation removes it at the next start")]
    private partial void LogNotRemoved(string instanceId, Exception exception);
}
