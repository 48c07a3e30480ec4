using CloudDevEnv.Contracts.Access;

namespace CloudDevEnv.Bench.Proxy;

/// <summary>Single use of sign-in tokens, in memory: the benchmark does not load src/Grains, whose real workspace
/// grain would clash with <see cref="BenchWorkspaceGrain"/>.</summary>
internal sealed class BenchAccessTokenGrain : Grain, IAccessTokenGrain
{
    private bool _redeemed;

    public Task<bool> RedeemAsync(DateTimeOffset expiresAt)
    {
        var first = !_redeemed;
        _redeemed = true;
        return Task.FromResult(first);
    }
}
