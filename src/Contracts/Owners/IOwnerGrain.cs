namespace CloudDevEnv.Contracts.Owners;

/// <summary>One user's index of workspaces and the quota of running ones, keyed by the owner's name.</summary>
/// <remarks>The grain is not reentrant, so the quota check and the slot it grants are one step:
/// exact however many launches for one owner arrive at once. It never calls a workspace grain,
/// so workspace grains may call it without risk of a deadlock.</remarks>
[Alias("cde.IOwnerGrain")]
public interface IOwnerGrain : IGrainWithStringKey
{
    /// <summary>Ids of the owner's workspaces that are not deleted, oldest first.</summary>
    [Alias("List")]
    Task<ImmutableArray<string>> ListAsync();

    /// <summary>Forgets the workspace and frees its run slot.</summary>
    [Alias("Remove")]
    Task RemoveAsync(string workspaceId);

    /// <summary>Grants the workspace a run slot and lists it, or throws QuotaExceeded. Idempotent per workspace.</summary>
    [Alias("AcquireRunSlot")]
    Task AcquireRunSlotAsync(string workspaceId);

    [Alias("ReleaseRunSlot")]
    Task ReleaseRunSlotAsync(string workspaceId);

    /// <summary>The workspaces holding a run slot now.</summary>
    [Alias("RunSlots")]
    Task<ImmutableArray<string>> RunSlotsAsync();
}
