using System.Collections.Concurrent;
using CloudDevEnv.Proxy.Routing;
using CloudDevEnv.Proxy.Workspaces;

namespace CloudDevEnv.Proxy.Tests.Infrastructure;

/// <summary>Stands in for the grains in the proxy's HTTP tests: routes are set by the test, and every call is counted.
/// <see cref="Push"/> plays the grain's event.</summary>
internal sealed class FakeWorkspaceControl : IWorkspaceControl
{
    private readonly ConcurrentDictionary<string, WorkspaceRoute> _routes = new();
    private readonly ConcurrentDictionary<string, byte> _redeemed = new();

    /// <summary>The caches of every proxy started with this control: an event reaches them all, as it reaches
    /// every subscribed proxy process.</summary>
    public ConcurrentBag<WorkspaceRouteCache> Caches { get; } = [];

    public ConcurrentDictionary<string, int> RouteReads { get; } = new();

    public ConcurrentDictionary<string, int> Subscriptions { get; } = new();

    public ConcurrentDictionary<string, int> Unsubscriptions { get; } = new();

    public ConcurrentQueue<string> Starts { get; } = new();

    public ConcurrentQueue<(string WorkspaceId, DateTimeOffset At)> Activity { get; } = new();

    /// <summary>Ids whose grain "cannot be reached": route reads and subscriptions throw.</summary>
    public ConcurrentDictionary<string, byte> Unreachable { get; } = new();

    /// <summary>When set, token redemption throws it (the silo is down).</summary>
    public Exception? RedeemFailure { get; set; }

    /// <summary>What StartAsync does besides recording the call, e.g. move the route to Creating.</summary>
    public Action<string>? OnStart { get; set; }

    public void Set(WorkspaceRoute route) => _routes[route.Id] = route;

    /// <summary>Changes the route the way the grain would and sends the event.</summary>
    public void Push(WorkspaceRoute route)
    {
        Set(route);
        foreach (var cache in Caches)
        {
            cache.Invalidate(route.Id);
        }
    }

    public Task<WorkspaceRoute?> GetRouteAsync(string workspaceId)
    {
        RouteReads.AddOrUpdate(workspaceId, 1, (_, n) => n + 1);
        if (Unreachable.ContainsKey(workspaceId))
        {
            return Task.FromException<WorkspaceRoute?>(new TimeoutException("the silo does not answer"));
        }

        return Task.FromResult(_routes.TryGetValue(workspaceId, out var route) ? route : null);
    }

    public Task StartAsync(string workspaceId, string user)
    {
        Starts.Enqueue(workspaceId);
        OnStart?.Invoke(workspaceId);
        return Task.CompletedTask;
    }

    public void ReportActivity(string workspaceId, DateTimeOffset at) => Activity.Enqueue((workspaceId, at));

    public Task<bool> SubscribeAsync(string workspaceId)
    {
        Subscriptions.AddOrUpdate(workspaceId, 1, (_, n) => n + 1);
        if (Unreachable.ContainsKey(workspaceId))
        {
            return Task.FromException<bool>(new TimeoutException("the silo does not answer"));
        }

        return Task.FromResult(_routes.ContainsKey(workspaceId));
    }

    public Task UnsubscribeAsync(string workspaceId)
    {
        Unsubscriptions.AddOrUpdate(workspaceId, 1, (_, n) => n + 1);
        return Task.CompletedTask;
    }

    public Task<bool> RedeemTokenAsync(string nonce, DateTimeOffset expiresAt) =>
        RedeemFailure is { } failure ? Task.FromException<bool>(failure) : Task.FromResult(_redeemed.TryAdd(nonce, 0));

    /// <summary>The secret every route of these tests carries; the upstream server plays the workspace gateway.</summary>
    public const string GatewaySecret = "test-gateway-secret-0123456789abcdef";

    public static WorkspaceRoute Route(
        string id,
        Uri gateway,
        string owner = "alice",
        WorkspacePhase phase = WorkspacePhase.Running,
        DesiredState desired = DesiredState.Running,
        string? reason = null,
        IEnumerable<int>? publicPorts = null,
        long version = 1) =>
        new(id, owner, phase, desired, reason, phase == WorkspacePhase.Running ? gateway : null, GatewaySecret,
            (publicPorts ?? []).ToImmutableHashSet(), version);
}
