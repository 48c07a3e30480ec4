using CloudDevEnv.Grains.Workspaces;
using Orleans.Serialization;

namespace CloudDevEnv.Grains.Owners;

public sealed class OwnerGrain(
    [PersistentState("owner", StorageNames.Workspaces)] IPersistentState<OwnerState> state,
    DeepCopier<OwnerState> copier,
    IOptions<WorkspaceOptions> options) : Grain, IOwnerGrain
{
    Task<ImmutableArray<string>> IOwnerGrain.ListAsync() => Task.FromResult(state.State.Workspaces.ToImmutableArray());

    Task<ImmutableArray<string>> IOwnerGrain.RunSlotsAsync() => Task.FromResult(state.State.RunSlots.ToImmutableArray());

    async Task IOwnerGrain.AcquireRunSlotAsync(string workspaceId)
    {
        var s = state.State;
        if (s.RunSlots.Contains(workspaceId))
        {
            return;
        }

        var limit = options.Value.MaxRunningPerOwner;
        if (s.RunSlots.Count >= limit)
        {
            throw new WorkspaceRejectedException(
                WorkspaceRejection.QuotaExceeded,
                $"{this.GetPrimaryKeyString()} already has {s.RunSlots.Count} running workspaces, the most allowed ({limit}). Stop or delete one first.");
        }

        // Listed for the administrators before this owner's first workspace is stored, so none is ever missing there.
        if (!s.InDirectory)
        {
            await GrainFactory.GetGrain<IOwnerDirectoryGrain>(IOwnerDirectoryGrain.Key).RegisterAsync(this.GetPrimaryKeyString());
        }

        await state.ChangeAsync(copier, s =>
        {
            s.InDirectory = true;
            s.RunSlots.Add(workspaceId);
            if (!s.Workspaces.Contains(workspaceId))
            {
                s.Workspaces.Add(workspaceId);
            }
        });
    }

    Task IOwnerGrain.ReleaseRunSlotAsync(string workspaceId) =>
        state.ChangeAsync(copier, s => s.RunSlots.Remove(workspaceId));

    Task IOwnerGrain.RemoveAsync(string workspaceId) =>
        state.ChangeAsync(copier, s => s.RunSlots.Remove(workspaceId) | s.Workspaces.Remove(workspaceId));
}
