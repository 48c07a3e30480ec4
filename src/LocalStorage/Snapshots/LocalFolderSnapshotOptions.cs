using System.ComponentModel.DataAnnotations;

namespace CloudDevEnv.LocalStorage.Snapshots;

/// <summary>The local-folder snapshot store, bound from the <c>Snapshots</c> configuration section.</summary>
public sealed class LocalFolderSnapshotOptions
{
    public const string SectionName = "Snapshots";

    /// <summary>The folder that holds one sub-folder of snapshots per workspace (local mode: <c>&lt;data dir&gt;/snapshots</c>).
    /// Created at start-up if missing.</summary>
    public string Directory { get; set; } = "";

    /// <summary>Snapshots kept per workspace, newest first. Three by default: the one being written never replaces the only
    /// good one, and a restore that finds the newest corrupt falls back to an older one.</summary>
    [Range(1, 100)]
    public int Keep { get; set; } = 3;
}
