using CloudDevEnv.Grains.Workspaces;

namespace CloudDevEnv.Grains.Provisioning;

/// <summary>The one git clone both the prepare container (to read devcontainer.json) and the workspace run: shallow,
/// no tags, at the ref, from the repository's URL or from its read-only bind mount.</summary>
internal static class GitClone
{
    /// <summary>Environment for the clone: never wait for a credential prompt nobody can answer.</summary>
    public static readonly IReadOnlyDictionary<string, string> Environment =
        new Dictionary<string, string>(StringComparer.Ordinal) { ["GIT_TERMINAL_PROMPT"] = "0" };

    public static List<string> Command(RepositoryUrl repository, string? gitRef, string folder)
    {
        // A bind-mounted repository belongs to another uid: git refuses it as "dubious" without safe.directory.
        var source = repository.LocalPath is null ? repository.Url : "file://" + WorkspaceProvisioner.LocalRepositoryMount;
        List<string> clone = ["git", "-c", "safe.directory=*", "clone", "--depth", "1", "--no-tags"];
        if (repository.LocalPath is not null)
        {
            // For a local source git runs upload-pack in the mounted repository with the -c options stripped
            // (GIT_CONFIG_PARAMETERS is among the variables it clears), so that side needs its own safe.directory.
            clone.Add("--upload-pack=git -c 'safe.directory=*' upload-pack");
        }

        if (gitRef is not null)
        {
            clone.AddRange(["--branch", gitRef]);
        }

        clone.AddRange(["--", source, folder]);
        return clone;
    }

    /// <summary>The workspace's failure for a clone git refused: git's own words.</summary>
    public static WorkspaceFailure Failure(ExecResult result) =>
        new($"git clone failed (exit {result.ExitCode}): {result.OutputTail.Trim()}", keepInstanceRunning: false);
}
