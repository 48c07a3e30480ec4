using System.Globalization;

namespace CloudDevEnv.Grains.Provisioning;

/// <summary>Runs devcontainer.json lifecycle hooks inside the workspace, as the workspace user, in the workspace
/// folder, with remoteEnv, in the spec's order: onCreateCommand, updateContentCommand, postCreateCommand once per
/// container, then postStartCommand once per container start. Output goes to the workspace's events.</summary>
/// <remarks>Whether a hook already ran is kept in the container itself, not in the grain: a container created
/// afresh (after it was removed behind our back) runs the creation hooks again, as the reference CLI does, and a
/// step repeated after a crash or an IDE retry does not run them twice. The creation marker lives in the container's
/// own filesystem (kept across stop and start, gone with the container); the start marker holds the start time of
/// the container's PID 1, which changes with every start.</remarks>
internal sealed partial class LifecycleRunner(IWorkspaceRuntime runtime, int tailLines, ILogger logger)
{
    internal const string CreatedMarker = "/tmp/.clouddevenv-created-hooks-done";
    internal const string StartedMarker = "/tmp/.clouddevenv-start-hooks-done";

    /// <summary>Set in every hook's environment to the kind of hooks it belongs to.</summary>
    internal const string HookVariable = "CDE_LIFECYCLE_HOOK";
    private const string CreateKind = "create";
    private const string StartKind = "start";

    // Field 22 of /proc/1/stat is PID 1's start time in clock ticks since boot: it differs for every container start.
    private const string StartStamp = "cut -d' ' -f22 /proc/1/stat";

    public async Task RunAsync(
        string workspaceId, WorkspacePlan plan, IReadOnlyDictionary<string, string> remoteEnv, IProgress<string> log, CancellationToken cancellationToken)
    {
        var createHooks = plan.Hooks.Where(h => h.FirstStartOnly).ToList();
        var startHooks = plan.Hooks.Where(h => !h.FirstStartOnly).ToList();

        if (createHooks.Count > 0 && !await ExecOkAsync(workspaceId, plan, ["test", "-e", CreatedMarker], cancellationToken))
        {
            await EndLeftoverHooksAsync(workspaceId, plan, CreateKind, cancellationToken);
            foreach (var hook in createHooks)
            {
                await RunHookAsync(workspaceId, plan, hook, With(remoteEnv, CreateKind), log, cancellationToken);
            }

            await ShellAsync(workspaceId, plan, $"touch {CreatedMarker}", cancellationToken);
        }

        if (startHooks.Count > 0
            && !await ShellAsync(workspaceId, plan, $"[ \"$(cat {StartedMarker} 2>/dev/null)\" = \"$({StartStamp})\" ]", cancellationToken))
        {
            await EndLeftoverHooksAsync(workspaceId, plan, StartKind, cancellationToken);
            foreach (var hook in startHooks)
            {
                await RunHookAsync(workspaceId, plan, hook, With(remoteEnv, StartKind), log, cancellationToken);
            }

            await ShellAsync(workspaceId, plan, $"{StartStamp} > {StartedMarker}", cancellationToken);
        }
    }

    /// <summary>Ends what is left of an earlier run of these hooks that never finished (the host was killed while a
    /// hook ran, and the container went on): the hooks run again from the start, and two `npm install`s must not race.
    /// Every hook process, and all it starts, carries <see cref="HookVariable"/> in its environment, which
    /// <c>/proc/&lt;pid&gt;/environ</c> shows to the same user (hooks run as the workspace user; root in a workspace lacks
    /// CAP_SYS_PTRACE, so it could not read them). Hooks that finished are never looked for: what they started in the
    /// background (a dev server from postStartCommand) stays.</summary>
    private async Task EndLeftoverHooksAsync(string workspaceId, WorkspacePlan plan, string kind, CancellationToken cancellationToken)
    {
        const string script =
            "for d in /proc/[0-9]*; do " +
            "if tr '\\0' '\\n' < \"$d/environ\" 2>/dev/null | grep -qx \"$1\"; then kill -KILL \"${d#/proc/}\" 2>/dev/null; fi; " +
            "done; true";
        await runtime.ExecAsync(
            workspaceId,
            new ExecRequest(["/bin/sh", "-c", script, "cde-end-hooks", $"{HookVariable}={kind}"], User: plan.RemoteUser),
            NullProgress.Instance,
            cancellationToken);
    }

    private static Dictionary<string, string> With(IReadOnlyDictionary<string, string> remoteEnv, string kind) =>
        new(remoteEnv) { [HookVariable] = kind };

    private async Task RunHookAsync(
        string workspaceId, WorkspacePlan plan, PlannedHook hook, IReadOnlyDictionary<string, string> remoteEnv,
        IProgress<string> log, CancellationToken cancellationToken)
    {
        log.Report($"Running {hook.Hook}.");
        var runs = hook.Steps.Select(async step =>
        {
            var label = step.Name is null ? hook.Hook : $"{hook.Hook}:{step.Name}";
            var output = new PrefixedProgress(log, $"[{label}] ");
            var result = await runtime.ExecAsync(
                workspaceId,
                new ExecRequest(step.Argv, remoteEnv, plan.WorkspaceFolder, plan.RemoteUser),
                output,
                cancellationToken);
            return (Label: label, Result: result);
        });

        // The object form runs its entries at the same time; the others have one step.
        var results = hook.Parallel ? await Task.WhenAll(runs) : [await runs.Single()];
        if (results.FirstOrDefault(r => r.Result.ExitCode != 0) is { Label: not null } failed)
        {
            LogHookFailed(workspaceId, failed.Label, failed.Result.ExitCode);
            var tail = string.Join('\n', failed.Result.OutputTail.TrimEnd().Split('\n').TakeLast(tailLines));
            throw new WorkspaceFailure(
                string.Create(CultureInfo.InvariantCulture, $"{failed.Label} failed with exit code {failed.Result.ExitCode}: {tail}"),
                keepInstanceRunning: true);
        }
    }

    private Task<bool> ShellAsync(string workspaceId, WorkspacePlan plan, string script, CancellationToken cancellationToken) =>
        ExecOkAsync(workspaceId, plan, ["/bin/sh", "-c", script], cancellationToken);

    private async Task<bool> ExecOkAsync(string workspaceId, WorkspacePlan plan, IReadOnlyList<string> argv, CancellationToken cancellationToken)
    {
        var result = await runtime.ExecAsync(workspaceId, new ExecRequest(argv, User: plan.RemoteUser), NullProgress.Instance, cancellationToken);
        return result.ExitCode == 0;
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Workspace {WorkspaceId}: lifecycle command {Hook} failed with exit code {ExitCode}")]
    private partial void LogHookFailed(string workspaceId, string hook, int exitCode);

    private sealed class PrefixedProgress(IProgress<string> inner, string prefix) : IProgress<string>
    {
        public void Report(string value) => inner.Report(prefix + value);
    }
}
