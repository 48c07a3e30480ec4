namespace CloudDevEnv.LocalStorage.Tests;

/// <summary>A fresh data folder per test, removed afterwards.</summary>
public sealed class TempDirectory : IDisposable
{
    public string Path { get; } = Directory.CreateTempSubdirectory("cde-localstorage-").FullName;

    public void Dispose()
    {
        try
        {
            Directory.Delete(Path, recursive: true);
        }
        catch (IOException)
        {
            // A process the test killed may still be closing its files; the OS cleans temp eventually.
        }
    }
}
