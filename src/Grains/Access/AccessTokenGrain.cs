using CloudDevEnv.Contracts.Access;
using Orleans.Serialization;

namespace CloudDevEnv.Grains.Access;

/// <summary>Single use of one sign-in token, keyed by the token's random id. Orleans runs one activation per key
/// (strongly consistent directory since 9.0) and this grain is not reentrant, so of two proxies redeeming the
/// same token at once exactly one gets true.</summary>
/// <remarks>The redemption is persisted before it is granted, so a silo lost before the token expires does not
/// make it usable again. The activation then stays until the expiry, when a timer deletes the record: past its
/// expiry every proxy refuses the token before asking, so nothing is kept for long.</remarks>
public sealed class AccessTokenGrain(
    [PersistentState("accessToken", StorageNames.Workspaces)] IPersistentState<AccessTokenState> state,
    DeepCopier<AccessTokenState> copier,
    TimeProvider time) : Grain, IAccessTokenGrain
{
    public override async Task OnActivateAsync(CancellationToken cancellationToken)
    {
        // A record left by an activation lost before its timer fired.
        if (state.RecordExists && state.State.ExpiresAt <= time.GetUtcNow())
        {
            await ForgetAsync();
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

        await state.ChangeAsync(copier, s =>
        {
            s.RedeemedAt = now;
            s.ExpiresAt = expiresAt;
        });

        // Answer replays from memory until the expiry, then delete the record.
        var remaining = expiresAt - now;
        DelayDeactivation(remaining + TimeSpan.FromSeconds(5));
        this.RegisterGrainTimer(
            ForgetAsync,
            new GrainTimerCreationOptions { DueTime = remaining + TimeSpan.FromSeconds(1), Period = Timeout.InfiniteTimeSpan });
        return true;
    }

    private async Task ForgetAsync()
    {
        await state.ClearStateAsync();

        // Still refused while the activation lives; the proxy refuses the expired token anyway.
        state.State.RedeemedAt = DateTimeOffset.MinValue;
        DeactivateOnIdle();
    }
}
