namespace CloudDevEnv.DevContainers.Tests.ReferenceCli;

/// <summary>The repository checkout the tests run from: the nearest folder above the test binaries that
/// holds CloudDevEnv.sln, so the tests work from any output path and working directory.</summary>
internal static class RepositoryRoot
{
    private static readonly Lazy<string> Root = new(Find);

    public static string Path => Root.Value;

    private static string Find()
    {
        for (var folder = new DirectoryInfo(AppContext.BaseDirectory); folder is not null; folder = folder.Parent)
        {
            if (File.Exists(System.IO.Path.Combine(folder.FullName, "CloudDevEnv.sln")))
            {
                return folder.FullName;
            }
        }
        throw new InvalidOperationException(
            $"No folder holding CloudDevEnv.sln above {AppContext.BaseDirectory}; run the tests from a checkout of the repository.");
    }
}
