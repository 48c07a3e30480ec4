namespace CloudDevEnv.Grains;

/// <summary>Names of the grain storage providers the grains ask for; every host registers them.</summary>
public static class StorageNames
{
    public const string Workspaces = "workspaces";
}
