using System.Globalization;
using System.Security.Cryptography;
using System.Text;

namespace CloudDevEnv.Grains.Provisioning;

/// <summary>Runs devcontainer.json lifecycle hooks inside the workspace, as the workspace user, in the workspace
/// folder, with remoteEnv, in the spec's order: onCreateCommand, updateContentCommand, postCreateCommand once per
/// container, then postStartCommand once per container start. Output goes to the workspace's events. The grain runs
/// the hooks up to <c>waitFor</c> before the workspace is Running and the rest after, so a call names which to run.</summary>
/// <remarks>Whether a hook already ran is kept in the container itself, not in the grain, one marker per hook: a
/// container created afresh (after it was removed behind our back) runs the creation hooks again, as the reference CLI
/// does, and a step repeated after a crash or an IDE retry runs only the hooks that had not finished. A creation marker
/// lives in the container's own filesystem (kept across stop and start, gone with the container); a start marker holds
/// the start time of the container's PID 1, which changes with every start.</remarks>
internal sealed partial class LifecycleRunner(IWorkspaceRuntime runtime, int tailLines, ILogger logger)
{
    /// <summary>Stands for every creation hook having run: a restored snapshot's files are past them.</summary>
    internal const string CreatedMarker = "/tmp/.clouddevenv-created-hooks-done";

    internal const string MarkerPrefix = "/tmp/.clouddevenv-hook-";

    /// <summary>Set in every hook's environment to the hook's key, so that what is left of an unfinished run is found.</summary>
    internal const string HookVariable = "CDE_LIFECYCLE_HOOK";

    // Field 22 of /proc/1/stat is PID 1's start time in clock ticks since boot: it differs for every container start.
    private const string StartStamp = "cut -d' ' -f22 /proc/1/stat";

    /// <summary>In one exec: which of <paramref name="hooks"/> are done (their indexes, one per line); for each that is
    /// not, what is left of an earlier run that never finished is ended (the host was killed while it ran and the
    /// container went on), since it runs again from the start and two `npm install`s must not race. Every hook process,
    /// and all it starts, carries <see cref="HookVariable"/> in its environment, which <c>/proc/&lt;pid&gt;/environ</c>
    /// shows to the same user (hooks run as the workspace user; root in a workspace lacks CAP_SYS_PTRACE). A finished
    /// hook's processes are never looked for: what it started in the background (a dev server) stays.</summary>
    private const string SurveyScript =
        "stamp=$(" + StartStamp + "); i=0; " +
        "while [ $# -ge 2 ]; do " +
        "if [ \"$1\" = create ]; then [ -e " + CreatedMarker + " ] || [ -e \"" + MarkerPrefix + "$2\" ] && ok=1 || ok=0; " +
        "else [ \"$(cat \"" + MarkerPrefix + "$2\" 2>/dev/null)\" = \"$stamp\" ] && ok=1 || ok=0; fi; " +
        "if [ $ok = 1 ]; then echo \"$i\"; else " +
        "for d in /proc/[0-9]*; do " +
        "if tr '\\0' '\\n' < \"$d/environ\" 2>/dev/null | grep -qx \"" + HookVariable + "=$2\"; then kill -KILL \"${d#/proc/}\" 2>/dev/null; fi; " +
        "done; fi; " +
        "i=$((i+1)); shift 2; done; true";

    /// <summary>The survey's $0, by which a test double knows it.</summary>
    internal const string SurveyName = "cde-hooks";

    /// <summary>Runs those of <paramref name="hooks"/> (in plan order) that are not done in this container.</summary>
    public async Task RunAsync(
        string workspaceId, WorkspacePlan plan, IReadOnlyList<PlannedHook> hooks, IReadOnlyDictionary<string, string> remoteEnv,
        IProgress<string> log, CancellationToken cancellationToken)
    {
        if (hooks.Count == 0)
        {
            return;
        }

        List<string> survey = ["/bin/sh", "-c", SurveyScript, SurveyName];
        foreach (var hook in hooks)
        {
            survey.Add(hook.FirstStartOnly ? "create" : "start");
            survey.Add(Key(hook));
        }

        var surveyed = await runtime.ExecAsync(workspaceId, new ExecRequest(survey, User: plan.RemoteUser), NullProgress.Instance, cancellationToken);
        if (surveyed.ExitCode != 0)
        {
            throw new WorkspaceRuntimeException(
                $"Reading which lifecycle commands already ran failed (exit {surveyed.ExitCode}): {surveyed.OutputTail.Trim()}", isPermanent: false);
        }

        var done = surveyed.OutputTail.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Select(line => int.TryParse(line, NumberStyles.None, CultureInfo.InvariantCulture, out var index) ? index : -1)
            .ToHashSet();
        foreach (var (hook, index) in hooks.Select((h, i) => (h, i)))
        {
            if (done.Contains(index))
            {
                continue;
            }

            var key = Key(hook);
            await RunHookAsync(workspaceId, plan, hook, new Dictionary<string, string>(remoteEnv) { [HookVariable] = key }, log, cancellationToken);
            IReadOnlyList<string> mark = hook.FirstStartOnly ? ["touch", MarkerPrefix + key] : ["/bin/sh", "-c", $"{StartStamp} > {MarkerPrefix}{key}"];
            var marked = await runtime.ExecAsync(workspaceId, new ExecRequest(mark, User: plan.RemoteUser), NullProgress.Instance, cancellationToken);
            if (marked.ExitCode != 0)
            {
                throw new WorkspaceRuntimeException($"Recording that {hook.Hook} ran failed (exit {marked.ExitCode}).", isPermanent: false);
            }
        }
    }

    /// <summary>A name for the hook that is safe in a file name and a shell word, and the same for the same plan.</summary>
    internal static string Key(PlannedHook hook) =>
        Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(hook.Hook)))[..16];

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

    [LoggerMessage(Level = LogLevel.Warning, Message = "Workspace {WorkspaceId}: lifecycle command {Hook} failed with exit code {ExitCode}")]
    private partial void LogHookFailed(string workspaceId, string hook, int exitCode);

    private sealed class PrefixedProgress(IProgress<string> inner, string prefix) : IProgress<string>
    {
        public void Report(string value) => inner.Report(prefix + value);
    }
}
