using System.Formats.Tar;
using System.Security.Cryptography;
using System.Text;

namespace CloudDevEnv.Grains.Provisioning.Ide;

/// <summary>Makes the IDE what devcontainer.json asks for before it starts: <c>customizations.vscode.settings</c> as its
/// machine settings (where code-server and VS Code's server read them, below the user's own), and
/// <c>customizations.vscode.extensions</c> installed into the remote user's extensions. The packages are fetched on
/// the control plane's side (<see cref="ExtensionFetcher"/>) and copied in, so a workspace needs no route to any
/// registry. An extension that cannot be had is a warning: the workspace runs without it, as VS Code does.</summary>
public sealed partial class IdeCustomizer(
    IWorkspaceRuntime runtime, ExtensionFetcher fetcher, IOptions<IdeOptions> options, ILogger<IdeCustomizer> logger)
{
    /// <summary>Where the packages land inside the workspace for the install; removed after it.</summary>
    private const string Staging = "/tmp/.cde-ide";

    private const string DataFolder = "${XDG_DATA_HOME:-$HOME/.local/share}/code-server";

    private IdeOptions Options => options.Value;

    public async Task ApplyAsync(
        string workspaceId, WorkspacePlan plan, IReadOnlyDictionary<string, string> environment, IProgress<string> log, CancellationToken cancellationToken)
    {
        var settings = string.IsNullOrEmpty(plan.IdeSettings) ? "{}" : plan.IdeSettings;
        if (settings == "{}" && plan.IdeExtensions.Count == 0)
        {
            return;
        }

        // Once per container and customization: a restart finds the extensions where the first start put them.
        var done = $"{DataFolder}/.cde-customized-{Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(settings + "\n" + string.Join('\n', plan.IdeExtensions))))[..16]}";
        if ((await ExecAsync(workspaceId, plan, environment, $"test -f \"{done}\"", NullProgress.Instance, cancellationToken)).ExitCode == 0)
        {
            return;
        }

        var packages = new List<(ExtensionId Extension, string Path)>();
        var warnings = 0;
        foreach (var text in plan.IdeExtensions)
        {
            if (!ExtensionId.TryParse(text, out var extension))
            {
                warnings++;
                log.Warn($"The IDE extension '{text}' is not installed: it is not an extension id (publisher.name or publisher.name@version).");
                continue;
            }

            var (path, problem) = await fetcher.FetchAsync(extension, cancellationToken);
            if (path is null)
            {
                warnings++;
                LogNotFetched(workspaceId, extension.ToString(), problem!);
                log.Warn($"The IDE extension {extension} is not installed: {problem}.");
                continue;
            }

            packages.Add((extension, path));
        }

        await CopyInAsync(workspaceId, settings, packages, cancellationToken);
        try
        {
            var install = string.Concat(packages.Select(p => $" --install-extension {Staging}/{p.Extension.Id}.vsix"));
            log.Report(packages.Count == 0
                ? "Writing the IDE's settings from devcontainer.json."
                : $"Installing the IDE extensions {string.Join(", ", packages.Select(p => p.Extension.ToString()))}.");
            var script = $"set -e; d=\"{DataFolder}\"; mkdir -p \"$d/Machine\"; cp {Staging}/settings.json \"$d/Machine/settings.json\"" +
                (packages.Count == 0 ? string.Empty : $"; \"$1\"{install} --force; \"$1\" --list-extensions --show-versions");
            using var bounded = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            bounded.CancelAfter(Options.InstallTimeout);
            var listing = new ListingProgress(log);
            var result = await ExecAsync(workspaceId, plan, environment, script, listing, bounded.Token);
            var installed = listing.Lines.Select(l => l.Trim().ToLowerInvariant()).ToHashSet(StringComparer.Ordinal);
            foreach (var (extension, _) in packages.Where(p => !installed.Any(i => i.StartsWith(p.Extension.Id + "@", StringComparison.Ordinal))))
            {
                warnings++;
                log.Warn($"The IDE extension {extension} did not install (exit {result.ExitCode}): {result.OutputTail.Trim()}");
            }

            if (result.ExitCode != 0 && packages.Count == 0)
            {
                log.Warn($"The IDE's settings from devcontainer.json were not written (exit {result.ExitCode}): {result.OutputTail.Trim()}");
            }
            else if (warnings == 0)
            {
                await ExecAsync(workspaceId, plan, environment, $"touch \"{done}\"", NullProgress.Instance, cancellationToken);
            }
        }
        finally
        {
            await runtime.ExecAsync(workspaceId, new ExecRequest(["rm", "-rf", "--", Staging], User: "0"), NullProgress.Instance, CancellationToken.None);
        }
    }

    /// <summary>One tar of the settings and the packages, unpacked in the workspace; readable by the remote user,
    /// who installs them.</summary>
    private async Task CopyInAsync(string workspaceId, string settings, List<(ExtensionId Extension, string Path)> packages, CancellationToken cancellationToken)
    {
        var file = Path.Combine(Path.GetTempPath(), $"cde-ide-{Guid.NewGuid():N}.tar");
        try
        {
            await using (var stream = File.Create(file))
            await using (var tar = new TarWriter(stream, TarEntryFormat.Pax, leaveOpen: true))
            {
                var entry = new PaxTarEntry(TarEntryType.RegularFile, "settings.json") { DataStream = new MemoryStream(Encoding.UTF8.GetBytes(settings)), Mode = Readable };
                await tar.WriteEntryAsync(entry, cancellationToken);
                foreach (var (extension, path) in packages)
                {
                    await using var package = File.OpenRead(path);
                    await tar.WriteEntryAsync(new PaxTarEntry(TarEntryType.RegularFile, $"{extension.Id}.vsix") { DataStream = package, Mode = Readable }, cancellationToken);
                }
            }

            await using var content = File.OpenRead(file);
            await runtime.RestoreAsync(workspaceId, Staging, content, cancellationToken);
        }
        finally
        {
            File.Delete(file);
        }
    }

    private const UnixFileMode Readable = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead;

    private Task<ExecResult> ExecAsync(
        string workspaceId, WorkspacePlan plan, IReadOnlyDictionary<string, string> environment, string script, IProgress<string> output, CancellationToken cancellationToken) =>
        runtime.ExecAsync(
            workspaceId,
            new ExecRequest(["/bin/sh", "-c", script, "cde-ide", Options.IdeProgram], environment, User: plan.RemoteUser),
            output,
            cancellationToken);

    /// <summary>The install's output, kept for the listing of what is installed that ends it, and shown.</summary>
    private sealed class ListingProgress(IProgress<string> log) : IProgress<string>
    {
        public List<string> Lines { get; } = [];

        public void Report(string value)
        {
            lock (Lines)
            {
                Lines.Add(value);
            }

            log.Report(value);
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Workspace {WorkspaceId}: the IDE extension {Extension} is not installed: {Problem}")]
    private partial void LogNotFetched(string workspaceId, string extension, string problem);
}
