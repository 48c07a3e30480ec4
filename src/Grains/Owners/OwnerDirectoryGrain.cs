namespace CloudDevEnv.Grains.Owners;

public sealed class OwnerDirectoryGrain(
    [PersistentState("ownerDirectory", StorageNames.Workspaces)] IPersistentState<OwnerDirectoryState> state) : Grain, IOwnerDirectoryGrain
{
    public async Task RegisterAsync(string owner)
    {
        if (!state.State.Owners.Add(owner))
        {
            return;
        }

        try
        {
            await state.WriteStateAsync();
        }
        catch
        {
            // Not stored, so not registered: the next call tries again.
            state.State.Owners.Remove(owner);
            throw;
        }
    }

    public Task<ImmutableArray<string>> ListAsync() => Task.FromResult(state.State.Owners.ToImmutableArray());
}
