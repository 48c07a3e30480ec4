using System.Diagnostics;
using CloudDevEnv.Grains.Workspaces;

namespace CloudDevEnv.Grains.Provisioning;

/// <summary>The files of a file:// repository at the requested ref, on this host, for reading its
/// devcontainer.json and building its Dockerfile before any container exists.</summary>
/// <remarks>
/// A Git repository is cloned shallowly at the ref into a scratch folder, so that the configuration and the build
/// context are exactly what the in-container clone will check out (not the uncommitted working tree, not another
/// branch). A plain folder (no <c>.git</c>) is read as it is. The scratch folder is deleted on dispose.
/// Remote repositories are not fetched here: the control plane would then reach arbitrary Git hosts from its own
/// network (see <see cref="WorkspaceImageResolver"/>).
/// </remarks>
internal sealed class RepositorySnapshot : IDisposable
{
    private static readonly TimeSpan GitTimeout = TimeSpan.FromMinutes(2);

    private readonly string? _scratch;

    /// <param name="scratch">A folder this snapshot owns and deletes on dispose, or null.</param>
    internal RepositorySnapshot(string folder, string? scratch)
    {
        Folder = folder;
        _scratch = scratch;
    }

    /// <summary>The repository's files; its last segment is the repository's name.</summary>
    public string Folder { get; }

    /// <summary>Takes the snapshot; null (with <paramref name="error"/> set) when git could not check out the ref.</summary>
    public static async Task<(RepositorySnapshot? Snapshot, string? Error)> TakeAsync(
        RepositoryUrl repository, string? gitRef, CancellationToken cancellationToken)
    {
        var local = repository.LocalPath ?? throw new ArgumentException("Only file:// repositories have a local snapshot.", nameof(repository));
        if (!IsGitRepository(local))
        {
            return (new RepositorySnapshot(local, scratch: null), null);
        }

        var scratch = Directory.CreateTempSubdirectory("cde-snapshot-").FullName;
        var folder = Path.Combine(scratch, repository.Name);
        List<string> args = ["-c", "safe.directory=*", "clone", "--quiet", "--depth", "1", "--no-tags"];
        if (gitRef is not null)
        {
            args.AddRange(["--branch", gitRef]);
        }

        args.AddRange(["--", "file://" + local, folder]);
        var (exitCode, output) = await RunGitAsync(args, cancellationToken);
        if (exitCode != 0)
        {
            TryDelete(scratch);
            return (null, output.Trim());
        }

        return (new RepositorySnapshot(folder, scratch), null);
    }

    public void Dispose()
    {
        if (_scratch is not null)
        {
            TryDelete(_scratch);
        }
    }

    private static bool IsGitRepository(string folder) =>
        Directory.Exists(Path.Combine(folder, ".git")) || File.Exists(Path.Combine(folder, ".git"))
        || (File.Exists(Path.Combine(folder, "HEAD")) && Directory.Exists(Path.Combine(folder, "objects")));

    private static async Task<(int ExitCode, string Output)> RunGitAsync(IEnumerable<string> args, CancellationToken cancellationToken)
    {
        var info = new ProcessStartInfo("git")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var arg in args)
        {
            info.ArgumentList.Add(arg);
        }

        // Never ask for credentials, never read the server's own Git configuration into the result.
        info.Environment["GIT_TERMINAL_PROMPT"] = "0";
        info.Environment["GIT_CONFIG_NOSYSTEM"] = "1";
        using var process = Process.Start(info) ?? throw new InvalidOperationException("git could not be started.");
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(GitTimeout);
        var stdout = process.StandardOutput.ReadToEndAsync(timeout.Token);
        var stderr = process.StandardError.ReadToEndAsync(timeout.Token);
        try
        {
            await process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw;
        }

        return (process.ExitCode, await stderr + await stdout);
    }

    internal static void TryDelete(string folder)
    {
        try
        {
            Directory.Delete(folder, recursive: true);
        }
        catch (IOException)
        {
            // A scratch folder left in /tmp is harmless; failing the launch for it would not be.
        }
        catch (UnauthorizedAccessException)
        {
        }
    }
}
