namespace CloudDevEnv.Grains.Owners;

[GenerateSerializer, Alias("cde.OwnerDirectoryState.v1")]
public sealed class OwnerDirectoryState
{
    [Id(0)] public SortedSet<string> Owners { get; set; } = new(StringComparer.Ordinal);
}
