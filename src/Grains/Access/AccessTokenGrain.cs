using CloudDevEnv.Contracts.Access;

namespace CloudDevEnv.Grains.Access;

/// <summary>Single use of one sign-in token, keyed by the token's random id. Orleans runs one activation per key
/// (strongly consistent directory since 9.0) and this grain is not reentrant, so of two proxies redeeming the
/// same token at once exactly one gets true.</summary>
/// <remarks>The redemption is persisted before it is granted, so a silo lost between two redemptions does not
/// make the token usable again; the activation stays in memory until the token expires and the record is cleared
/// when it is next activated after expiry.</remarks>
public sealed class AccessTokenGrain(
    [PersistentState("accessToken", StorageNames.Workspaces)] IPersistentState<AccessTokenState> state,
    TimeProvider time) : Grain, IAccessTokenGrain
{
    public override async Task OnActivateAsync(CancellationToken cancellationToken)
    {
        if (state.RecordExists && state.State.ExpiresAt < time.GetUtcNow())
        {
            // A replay after expiry is refused by the proxy's own expiry check, so the record may go.
            await state.ClearStateAsync(cancellationToken);
            state.State = new AccessTokenState { RedeemedAt = DateTimeOffset.MinValue, ExpiresAt = DateTimeOffset.MinValue };
        }

        await base.OnActivateAsync(cancellationToken);
    }

    public async Task<bool> RedeemAsync(DateTimeOffset expiresAt)
    {
        var now = time.GetUtcNow();
        if (state.State.RedeemedAt is not null || expiresAt <= now)
        {
            return false;
        }

        state.State.RedeemedAt = now;
        state.State.ExpiresAt = expiresAt;
        await state.WriteStateAsync();

        // Answer later replays from memory rather than from storage.
        DelayDeactivation(expiresAt - now);
        return true;
    }
}
