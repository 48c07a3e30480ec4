namespace CloudDevEnv.Kubernetes.Manifests.Tests.Rendering;

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
