namespace CloudDevEnv.Grains.Workspaces;

/// <summary>One idempotency key of one user. Not reentrant, so two retries racing each other get the same answer.</summary>
public sealed class IdempotencyGrain(
    [PersistentState("idempotency", StorageNames.Workspaces)] IPersistentState<IdempotencyState> state,
    TimeProvider time) : Grain, IIdempotencyGrain
{
    public async Task<IdempotentClaim> ClaimAsync(string requestHash, string workspaceId)
    {
        var now = time.GetUtcNow();
        var s = state.State;
        if (s.WorkspaceId is not null && s.ExpiresAt > now)
        {
            return new IdempotentClaim(s.WorkspaceId, s.RequestHash == requestHash, Replayed: true);
        }

        state.State = new IdempotencyState { WorkspaceId = workspaceId, RequestHash = requestHash, ExpiresAt = now + IIdempotencyGrain.Lifetime };
        try
        {
            await state.WriteStateAsync();
        }
        catch
        {
            state.State = s;
            throw;
        }

        return new IdempotentClaim(workspaceId, SameRequest: true, Replayed: false);
    }
}
