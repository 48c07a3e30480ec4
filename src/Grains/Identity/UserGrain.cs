using CloudDevEnv.Contracts.Identity;
using Orleans.Serialization;

namespace CloudDevEnv.Grains.Identity;

/// <summary>One user's API tokens. The index is written before the token can be used and the token is revoked before
/// it leaves the index, so that no usable token is ever missing from the user's list.</summary>
public sealed class UserGrain(
    [PersistentState("user", StorageNames.Workspaces)] IPersistentState<UserState> state,
    DeepCopier<UserState> copier,
    IOptions<ApiTokenOptions> options,
    TimeProvider time) : Grain, IUserGrain
{
    public const int MaxNameLength = 64;

    private string User => this.GetPrimaryKeyString();

    public async Task<NewApiToken> CreateTokenAsync(string name, TimeSpan lifetime)
    {
        if (string.IsNullOrWhiteSpace(name) || name.Length > MaxNameLength || name.Any(char.IsControl))
        {
            throw new WorkspaceRejectedException(
                WorkspaceRejection.Invalid, $"name must be 1 to {MaxNameLength} characters without control characters.", "name");
        }

        var max = options.Value.MaxLifetime;
        if (lifetime <= TimeSpan.Zero || lifetime > max)
        {
            throw new WorkspaceRejectedException(
                WorkspaceRejection.Invalid, $"expiresInDays must be between 1 and {max.TotalDays:0}.", "expiresInDays");
        }

        await ForgetExpiredAsync();
        if (state.State.Tokens.Count >= options.Value.MaxPerUser)
        {
            throw new WorkspaceRejectedException(
                WorkspaceRejection.Conflict, $"You have {state.State.Tokens.Count} tokens, the most allowed; revoke one first.");
        }

        var now = time.GetUtcNow();
        var id = ApiTokenFormat.NewId();
        var secret = ApiTokenFormat.NewSecret();
        var info = new ApiTokenInfo(id, name.Trim(), now, now + lifetime);
        await ChangeAsync(tokens => tokens.Add(info));
        try
        {
            await GrainFactory.GetGrain<IApiTokenGrain>(id).IssueAsync(User, ApiTokenFormat.Hash(secret), info.ExpiresAt);
        }
        catch
        {
            await ChangeAsync(tokens => tokens.Remove(info));
            throw;
        }

        return new NewApiToken(info, ApiTokenFormat.Format(id, secret));
    }

    public async Task<ImmutableArray<ApiTokenInfo>> ListTokensAsync()
    {
        await ForgetExpiredAsync();
        return [.. state.State.Tokens];
    }

    public async Task<bool> RevokeTokenAsync(string tokenId)
    {
        var token = state.State.Tokens.Find(t => t.Id == tokenId);
        if (token is null)
        {
            return false;
        }

        await GrainFactory.GetGrain<IApiTokenGrain>(tokenId).RevokeAsync();
        await ChangeAsync(tokens => tokens.Remove(token));
        return true;
    }

    /// <summary>Expired tokens leave the list, and their grains forget them (they refuse them already).</summary>
    private async Task ForgetExpiredAsync()
    {
        var now = time.GetUtcNow();
        var expired = state.State.Tokens.Where(t => t.ExpiresAt <= now).ToList();
        if (expired.Count == 0)
        {
            return;
        }

        await Task.WhenAll(expired.Select(t => GrainFactory.GetGrain<IApiTokenGrain>(t.Id).RevokeAsync()));
        await ChangeAsync(tokens => tokens.RemoveAll(expired.Contains));
    }

    private Task ChangeAsync(Action<List<ApiTokenInfo>> change) => state.ChangeAsync(copier, s => change(s.Tokens));
}
