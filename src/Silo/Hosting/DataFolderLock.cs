namespace CloudDevEnv.Silo.Hosting;

/// <summary>One process per data folder: two silos writing the same state files would each trust their own
/// ETags and overwrite each other. The lock is the kernel's (flock), so a killed process releases it.</summary>
public static class DataFolderLock
{
    private static FileStream? _held;

    public static void Acquire(string dataDir)
    {
        Directory.CreateDirectory(dataDir);
        var path = Path.Combine(dataDir, ".lock");
        try
        {
            _held = new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
        }
        catch (IOException)
        {
            throw new StartupException(
                $"Another CloudDevEnv process is using the data folder {dataDir}. Stop it, or give this one its own folder with CDE_DATA_DIR.");
        }
    }
}

/// <summary>A start-up problem the operator can fix; printed as its message alone.</summary>
public sealed class StartupException(string message) : Exception(message);
