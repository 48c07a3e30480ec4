namespace CloudDevEnv.Workspaces.Docker.Tests;

[CollectionDefinition(Name)]
public sealed class ContainerReadClusterCollection : ICollectionFixture<ContainerReadClusterFixture>
{
    public const string Name = "workspaces on docker, repositories read in a prepare container";
}

/// <summary>The workspace cluster with the prepare container made from the base image (as the local-mode host does),
/// rather than the fallback image the other fixture leaves it to.</summary>
public sealed class ContainerReadClusterFixture : WorkspaceClusterFixture
{
    protected override IEnumerable<KeyValuePair<string, string?>> ExtraSettings =>
    [
        new("Provisioning:PrepareImage", WorkspaceImages.BaseImage),
    ];
}
