namespace CloudDevEnv.DevContainers.Tests;

/// <summary>A throw-away repository folder for one test.</summary>
internal sealed class TestRepository : IDisposable
{
    private readonly string _parent;

    public TestRepository(string name = "sample-repo")
    {
        _parent = Path.Combine(Path.GetTempPath(), "cde-dc-tests-" + Guid.NewGuid().ToString("N"));
        Folder = Path.Combine(_parent, name);
        Directory.CreateDirectory(Folder);
    }

    public string Folder { get; }

    public TestRepository With(string relativePath, string content)
    {
        var path = Path.Combine(Folder, relativePath);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllText(path, content);
        return this;
    }

    public string PathOf(string relativePath) => Path.Combine(Folder, relativePath);

    /// <summary>Loads with the given local environment, failing the test when there is no configuration.</summary>
    public DevContainerConfig Load(IReadOnlyDictionary<string, string>? environment = null, string? name = null) =>
        DevContainerConfigLoader.Load(Folder, environment is null ? LocalContext.Empty : new LocalContext(environment), name)
        ?? throw new InvalidOperationException("no configuration found");

    /// <summary>Writes <c>.devcontainer/devcontainer.json</c> and loads it.</summary>
    public DevContainerConfig LoadJson(string json, IReadOnlyDictionary<string, string>? environment = null) =>
        With(".devcontainer/devcontainer.json", json).Load(environment);

    /// <summary>Writes <c>.devcontainer/devcontainer.json</c> and loads it under <paramref name="policy"/>.</summary>
    public DevContainerConfig LoadJson(string json, DevContainerPolicy policy) =>
        DevContainerConfigLoader.Load(With(".devcontainer/devcontainer.json", json).Folder, new LocalContext { Policy = policy })
        ?? throw new InvalidOperationException("no configuration found");

    public void Dispose()
    {
        try
        {
            Directory.Delete(_parent, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
