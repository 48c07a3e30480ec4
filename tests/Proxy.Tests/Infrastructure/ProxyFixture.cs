namespace CloudDevEnv.Proxy.Tests.Infrastructure;

/// <summary>One upstream and one proxy with faked grains, shared by the tests of a class; each test uses
/// workspace ids of its own.</summary>
public sealed class ProxyFixture : IAsyncLifetime
{
    internal FakeWorkspaceControl Control { get; } = new();

    public UpstreamServer Upstream { get; private set; } = null!;

    public ProxyServer Proxy { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        Upstream = await UpstreamServer.StartAsync();
        Proxy = await ProxyServer.StartAsync(control: Control);
    }

    public async Task DisposeAsync()
    {
        await Proxy.DisposeAsync();
        await Upstream.DisposeAsync();
    }

    /// <summary>A new running workspace owned by <paramref name="owner"/> whose ports all lead to the upstream.</summary>
    internal string NewWorkspace(
        string owner = "alice",
        WorkspacePhase phase = WorkspacePhase.Running,
        DesiredState desired = DesiredState.Running,
        string? reason = null,
        IEnumerable<int>? publicPorts = null,
        Uri? endpoint = null)
    {
        var id = WorkspaceId.NewId();
        Control.Set(FakeWorkspaceControl.Route(id, endpoint ?? Upstream.BaseUri, owner, phase, desired, reason, publicPorts: publicPorts));
        return id;
    }

    /// <summary>Follows a fresh sign-in link as a browser would; returns the browser, now holding the cookie.</summary>
    public async Task<Browser> SignedInBrowserAsync(string workspaceId, string owner = "alice")
    {
        var browser = new Browser(Proxy);
        var url = Proxy.Tokens.CreateSignInUrl(workspaceId, owner);
        using var response = await browser.GetAsync(Proxy.Url(workspaceId, url.PathAndQuery));
        Assert.Equal(HttpStatusCode.SeeOther, response.StatusCode);
        return browser;
    }
}
