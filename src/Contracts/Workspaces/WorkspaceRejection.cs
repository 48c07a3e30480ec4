namespace CloudDevEnv.Contracts.Workspaces;

/// <summary>Why a command was refused; the API maps each to an HTTP status.</summary>
public enum WorkspaceRejection
{
    /// <summary>The request itself is wrong (bad repository URL, bad owner name...).</summary>
    Invalid = 0,
    /// <summary>No workspace has this id.</summary>
    NotFound = 1,
    /// <summary>The command makes no sense in the workspace's current phase.</summary>
    Conflict = 2,
    /// <summary>The owner already has as many running workspaces as allowed.</summary>
    QuotaExceeded = 3,
}

/// <summary>A command the grain refused. Nothing was changed.</summary>
[GenerateSerializer, Alias("cde.WorkspaceRejectedException")]
public sealed class WorkspaceRejectedException : Exception
{
    public WorkspaceRejectedException(WorkspaceRejection kind, string message, string? field = null)
        : base(message)
    {
        Kind = kind;
        Field = field;
    }

    [Id(0)]
    public WorkspaceRejection Kind { get; private set; }

    /// <summary>The request field at fault, for <see cref="WorkspaceRejection.Invalid"/>.</summary>
    [Id(1)]
    public string? Field { get; private set; }
}
