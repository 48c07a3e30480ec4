using Orleans.Serialization;

namespace CloudDevEnv.Grains.Owners;

public sealed class OwnerDirectoryGrain(
    [PersistentState("ownerDirectory", StorageNames.Workspaces)] IPersistentState<OwnerDirectoryState> state,
    DeepCopier<OwnerDirectoryState> copier) : Grain, IOwnerDirectoryGrain
{
    // Not stored, so not registered: the next call tries again.
    public Task RegisterAsync(string owner) => state.ChangeAsync(copier, s => s.Owners.Add(owner));

    public Task<ImmutableArray<string>> ListAsync() => Task.FromResult(state.State.Owners.ToImmutableArray());
}
