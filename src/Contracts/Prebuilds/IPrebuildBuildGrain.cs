namespace CloudDevEnv.Contracts.Prebuilds;

/// <summary>The platform's build of one repository's prebuild at one ref (key: <see cref="KeyOf"/>): the image a launch
/// would use, with the repository checked out and its onCreateCommand and updateContentCommand run into it, saved,
/// pushed to <c>Prebuilds:Registry</c> and registered, so that later launches skip all of that.</summary>
[Alias("cde.IPrebuildBuildGrain")]
public interface IPrebuildBuildGrain : IGrainWithStringKey
{
    /// <summary>Starts a build unless one is under way (then returns that one).</summary>
    /// <exception cref="Workspaces.WorkspaceRejectedException">Invalid (the repository or ref), or Conflict (no registry
    /// is configured, so the platform builds no prebuilds).</exception>
    [Alias("Start")]
    Task<PrebuildBuildStatus> StartAsync(string requestedBy);

    /// <summary>Builds again (a push, the schedule) if this repository and ref were built here before and their
    /// registered prebuild is still the one built here; else null, and nothing starts. Returns a build under way as is.</summary>
    [Alias("Refresh")]
    Task<PrebuildBuildStatus?> RefreshAsync(string requestedBy);

    /// <summary>The latest build, or null when none was asked for.</summary>
    [Alias("Get")]
    Task<PrebuildBuildStatus?> GetAsync();
}

/// <summary>The key of a <see cref="IPrebuildBuildGrain"/>: "&lt;ref&gt;|&lt;repository URL&gt;", an empty ref for the
/// default branch (no ref holds '|').</summary>
public static class PrebuildBuildKey
{
    public static string Of(string repoUrl, string? gitRef) => $"{gitRef}|{repoUrl}";

    public static (string RepoUrl, string? Ref) Parse(string key)
    {
        var bar = key.IndexOf('|', StringComparison.Ordinal);
        return (key[(bar + 1)..], bar <= 0 ? null : key[..bar]);
    }
}

public enum PrebuildBuildPhase
{
    Building = 0,
    Succeeded = 1,
    Failed = 2,
}

/// <summary>A prebuild build as it stands.</summary>
/// <param name="Image">Once it succeeded: the pushed image by digest, as registered.</param>
/// <param name="Reason">Once it failed: why.</param>
/// <param name="Events">What it did, as a launch's events say it (image, clone, hook output, push): its last ones.</param>
/// <param name="EventsDropped">How many earlier events are no longer kept: <c>Events[i]</c> is the build's event number
/// <c>EventsDropped + i + 1</c>.</param>
[GenerateSerializer, Immutable, Alias("cde.PrebuildBuildStatus")]
public sealed record PrebuildBuildStatus(
    [property: Id(0)] string RepoUrl,
    [property: Id(1)] string? Ref,
    [property: Id(2)] PrebuildBuildPhase Phase,
    [property: Id(3)] string RequestedBy,
    [property: Id(4)] DateTimeOffset StartedAt,
    [property: Id(5)] DateTimeOffset? FinishedAt,
    [property: Id(6)] string? Image,
    [property: Id(7)] string? Reason,
    [property: Id(8)] ImmutableArray<string> Events,
    [property: Id(9)] long EventsDropped = 0);
