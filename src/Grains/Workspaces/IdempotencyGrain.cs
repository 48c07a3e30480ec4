using Orleans.Serialization;

namespace CloudDevEnv.Grains.Workspaces;

/// <summary>One idempotency key of one user. Not reentrant, so two retries racing each other get the same answer.</summary>
public sealed class IdempotencyGrain(
    [PersistentState("idempotency", StorageNames.Workspaces)] IPersistentState<IdempotencyState> state,
    DeepCopier<IdempotencyState> copier,
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

        await state.ChangeAsync(copier, claim =>
        {
            claim.WorkspaceId = workspaceId;
            claim.RequestHash = requestHash;
            claim.ExpiresAt = now + IIdempotencyGrain.Lifetime;
        });

        return new IdempotentClaim(workspaceId, SameRequest: true, Replayed: false);
    }
}
