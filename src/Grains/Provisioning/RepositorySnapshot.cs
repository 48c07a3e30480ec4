namespace CloudDevEnv.Grains.Provisioning;

/// <summary>A repository's checkout at the requested ref in a scratch folder of this host, brought out of a prepare
/// instance by <see cref="ContainerCheckout"/> without links or special files, for reading devcontainer.json and packing
/// the Dockerfile's build context. The scratch folder is deleted on dispose.</summary>
internal sealed class RepositorySnapshot : IDisposable
{
    private readonly string _scratch;

    /// <param name="scratch">The folder this snapshot owns and deletes on dispose.</param>
    internal RepositorySnapshot(string folder, string scratch)
    {
        Folder = folder;
        _scratch = scratch;
    }

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
