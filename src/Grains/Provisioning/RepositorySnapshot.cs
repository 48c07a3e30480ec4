namespace CloudDevEnv.Grains.Provisioning;

/// <summary>A repository's checkout (or only its configuration) at the requested ref in a scratch folder of this host, brought out of a prepare
/// instance by <see cref="PreparedCheckout"/> without links or special files, for reading devcontainer.json and packing
/// the Dockerfile's build context. The scratch folder is deleted on dispose.</summary>
internal sealed class RepositorySnapshot : IDisposable
{
    private readonly string _scratch;

    /// <param name="scratch">The folder this snapshot owns and deletes on dispose.</param>
    internal RepositorySnapshot(string folder, string scratch, bool isPartial)
    {
        Folder = folder;
        _scratch = scratch;
        IsPartial = isPartial;
    }

    /// <summary>True when only the configuration folders were brought out (<see cref="PreparedCheckout.ReadConfigurationAsync"/>).</summary>
    public bool IsPartial { get; }

    /// <summary>The repository's files; its last segment is the repository's name.</summary>
    public string Folder { get; }

    public void Dispose() => TryDelete(_scratch);

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
