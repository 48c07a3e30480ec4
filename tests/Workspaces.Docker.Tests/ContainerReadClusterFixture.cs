namespace CloudDevEnv.Workspaces.Docker.Tests;

[CollectionDefinition(Name)]
public sealed class ContainerReadClusterCollection : ICollectionFixture<ContainerReadClusterFixture>
{
    public const string Name = "workspaces on docker, repositories read in a prepare container";
}

/// <summary>The workspace cluster with <c>Provisioning:ReadLocalRepositoriesInContainer</c> set: file:// repositories
/// are read the way remote ones are (a clone in a prepare container from the base image, brought out by archive),
/// which exercises that path end to end without network.</summary>
public sealed class ContainerReadClusterFixture : WorkspaceClusterFixture
{
    protected override IEnumerable<KeyValuePair<string, string?>> ExtraSettings =>
    [
        new("Provisioning:ReadLocalRepositoriesInContainer", "true"),
        new("Provisioning:PrepareImage", WorkspaceImages.BaseImage),
    ];
}
