using System.Security.Cryptography;
using CloudDevEnv.Contracts.Identity;
using Orleans.Serialization;

namespace CloudDevEnv.Grains.Identity;

/// <summary>One API token. Not reentrant, so a revocation and an authentication never interleave: once
/// <see cref="RevokeAsync"/> has returned, no call authenticates with the token again, on any API process.</summary>
public sealed class ApiTokenGrain(
    [PersistentState("apiToken", StorageNames.Workspaces)] IPersistentState<ApiTokenState> state,
    DeepCopier<ApiTokenState> copier,
    TimeProvider time) : Grain, IApiTokenGrain
{
    public async Task IssueAsync(string user, byte[] secretHash, DateTimeOffset expiresAt)
    {
        if (state.State.User is not null)
        {
            throw new WorkspaceRejectedException(WorkspaceRejection.Conflict, "A token with this id exists already.");
        }

        await state.ChangeAsync(copier, s =>
        {
            s.User = user;
            s.SecretHash = secretHash;
            s.ExpiresAt = expiresAt;
        });
    }

    public async Task<string?> AuthenticateAsync(byte[] secretHash)
    {
        var s = state.State;
        if (s.User is null)
        {
            return null;
        }

        if (s.ExpiresAt <= time.GetUtcNow())
        {
            await ForgetAsync();
            return null;
        }

        return CryptographicOperations.FixedTimeEquals(secretHash, s.SecretHash) ? s.User : null;
    }

    public Task RevokeAsync() => state.State.User is null ? Task.CompletedTask : ForgetAsync();

    private async Task ForgetAsync()
    {
        await state.ClearStateAsync();
        state.State = new ApiTokenState();
    }
}
