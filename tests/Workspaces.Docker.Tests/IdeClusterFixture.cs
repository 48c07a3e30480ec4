namespace CloudDevEnv.Workspaces.Docker.Tests;

[CollectionDefinition(Name)]
public sealed class IdeClusterCollection : ICollectionFixture<IdeClusterFixture>
{
    public const string Name = "workspaces on docker, with an extension registry";
}

/// <summary>The workspace cluster with an Open VSX registry stand-in on loopback (<see cref="OpenVsxStandIn"/>), a folder
/// of .vsix files as an air-gapped installation keeps one, and an extension cache of its own.</summary>
public sealed class IdeClusterFixture : WorkspaceClusterFixture
{
    private readonly string _work = Directory.CreateTempSubdirectory("cde-ide-").FullName;

    public OpenVsxStandIn Registry { get; } = new();

    public string ExtensionsFolder => Path.Combine(_work, "vsix");

    public string CacheFolder => Path.Combine(_work, "cache");

    protected override IEnumerable<KeyValuePair<string, string?>> ExtraSettings =>
    [
        new("Ide:ExtensionRegistry", Registry.Url),
        new("Ide:ExtensionsFolder", ExtensionsFolder),
        new("Ide:CacheFolder", CacheFolder),
    ];

    public override async Task InitializeAsync()
    {
        Registry.Publish("cde-test", "from-registry", "1.0.0");
        Registry.Publish("cde-test", "from-registry", "2.0.0");
        Registry.Publish("cde-test", "from-feature", "0.3.0");
        Registry.Publish("cde-test", "cached", "1.1.0");
        Directory.CreateDirectory(ExtensionsFolder);
        await File.WriteAllBytesAsync(Path.Combine(ExtensionsFolder, "cde-test.from-folder-0.9.0.vsix"), Vsix.Create("cde-test", "from-folder", "0.9.0"));
        await base.InitializeAsync();
    }

    public override async Task DisposeAsync()
    {
        try
        {
            await base.DisposeAsync();
        }
        finally
        {
            await Registry.DisposeAsync();
            Directory.Delete(_work, recursive: true);
        }
    }
}
