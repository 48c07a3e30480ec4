using Orleans.Storage;

namespace CloudDevEnv.LocalStorage;

/// <summary>Where the file grain storage and the file reminder table keep their data.</summary>
public sealed class FileStorageOptions : IStorageProviderSerializerOptions
{
    /// <summary>The data folder (the host passes <c>CDE_DATA_DIR</c>). Created at start-up if missing.
    /// Grain state goes to <c>grains/</c> under it and reminders to <c>reminders.json</c>.</summary>
    public string Directory { get; set; } = "";

    /// <summary>When true (the default) clearing a grain's state deletes its file. When false the file
    /// stays as a tombstone whose version keeps counting, so a stale writer is still refused.</summary>
    public bool DeleteStateOnClear { get; set; } = true;

    /// <summary>Set by Orleans from the host's <see cref="IGrainStorageSerializer"/> (JSON by default) unless
    /// the host sets one; grain storage needs it, the reminder table ignores it.</summary>
    public IGrainStorageSerializer GrainStorageSerializer { get; set; } = null!;
}
