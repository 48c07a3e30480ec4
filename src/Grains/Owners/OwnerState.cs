namespace CloudDevEnv.Grains.Owners;

[GenerateSerializer, Alias("cde.OwnerState.v1")]
public sealed class OwnerState
{
    /// <summary>The owner's workspaces that are not deleted, oldest first.</summary>
    [Id(0)] public List<string> Workspaces { get; set; } = [];

    /// <summary>Workspaces whose desired state is Running: they count against the quota.</summary>
    [Id(1)] public HashSet<string> RunSlots { get; set; } = [];

    /// <summary>Registered in <see cref="IOwnerDirectoryGrain"/>: true once, then never asked again.</summary>
    [Id(2)] public bool InDirectory { get; set; }
}
