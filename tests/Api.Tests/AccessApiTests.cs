using System.Net.Http.Headers;
using System.Net.Sockets;
using System.Text;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;

namespace CloudDevEnv.Api.Tests;

/// <summary>Getting into a workspace through the proxy listener of the same host, reaching an upstream: the browser flow
/// from the workspace host through the platform's sign-in, the one-time link for scripts, and port visibility.</summary>
[Collection(HostCollection.Name)]
public sealed class AccessApiTests(HostFixture host) : IAsyncLifetime
{
    private WebApplication? _upstream;

    public async Task InitializeAsync()
    {
        var port = FreePorts.Take(1)[0];
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls($"http://127.0.0.1:{port}");
        _upstream = builder.Build();
        _upstream.Run(context => context.Response.WriteAsync("upstream saw " + context.Request.Path));
        await _upstream.StartAsync();
        host.Runtime.EndpointBase = new Uri($"http://127.0.0.1:{port}/");
    }

    public async Task DisposeAsync()
    {
        if (_upstream is not null)
        {
            await _upstream.DisposeAsync();
        }
    }

    [Fact]
    public async Task The_sign_in_link_opens_the_workspace_through_the_proxy_once()
    {
        using var owner = await host.SignInAsync(Users.NewName("opener"));
        var id = await RunningWorkspaceAsync(owner);

        var open = await owner.PostAsync($"/api/workspaces/{id}/open", null);
        Assert.Equal(HttpStatusCode.OK, open.StatusCode);
        var url = new Uri((await open.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("url").GetString()!);
        Assert.Equal($"{id}.localhost", url.Host);

        using var handler = new SocketsHttpHandler { AllowAutoRedirect = false, UseCookies = false };
        using var browser = new HttpClient(handler);
        HttpRequestMessage At(string pathAndQuery) =>
            new(HttpMethod.Get, $"http://127.0.0.1:{url.Port}{pathAndQuery}") { Headers = { Host = $"{url.Host}:{url.Port}" } };

        var anonymous = await browser.SendAsync(At("/"));
        Assert.NotEqual(HttpStatusCode.OK, anonymous.StatusCode);
        Assert.DoesNotContain("upstream saw", await anonymous.Content.ReadAsStringAsync());

        var signIn = await browser.SendAsync(At(url.PathAndQuery));
        Assert.Equal(HttpStatusCode.SeeOther, signIn.StatusCode);
        var cookie = Assert.Single(signIn.Headers.GetValues("Set-Cookie"));
        Assert.Contains("httponly", cookie.ToLowerInvariant());

        var page = At("/some/page");
        page.Headers.Add("Cookie", cookie.Split(';')[0]);
        var proxied = await browser.SendAsync(page);
        Assert.Equal("upstream saw /some/page", await proxied.Content.ReadAsStringAsync());

        var replay = await browser.SendAsync(At(url.PathAndQuery));
        Assert.False(replay.Headers.Contains("Set-Cookie"), "a sign-in link works once");
    }

    [Fact]
    public async Task A_browser_visiting_the_workspace_host_is_signed_in_through_the_platform_as_codespaces_does()
    {
        var ownerName = Users.NewName("visitor");
        using var owner = await host.SignInAsync(ownerName);
        var id = await RunningWorkspaceAsync(owner);

        // A fresh browser: no session on the platform, no cookie on the workspace host.
        using var browser = new BrowserClient();
        var landed = await browser.NavigateAsync(new Uri($"http://{id}.localhost:{host.ProxyPort}/src/app.ts?line=3"));
        Assert.Equal(HttpStatusCode.OK, landed.Response.StatusCode);
        Assert.Equal(host.Api.Authority, landed.Url.Authority);
        Assert.Equal("/signin", landed.Url.AbsolutePath);
        var signInPage = await landed.Response.Content.ReadAsStringAsync();
        Assert.Contains("Development sign-in", signInPage);

        // The sign-in form carries the way back; signing in lands on the page first asked for, through the proxy.
        var returnUrl = System.Web.HttpUtility.ParseQueryString(landed.Url.Query)["returnUrl"]!;
        var signedIn = await browser.PostFormAsync(new Uri(host.Api, "/signin/dev"), new() { ["user"] = ownerName, ["returnUrl"] = returnUrl });
        Assert.Equal(HttpStatusCode.OK, signedIn.Response.StatusCode);
        Assert.Equal($"{id}.localhost", signedIn.Url.Host);
        Assert.Equal("upstream saw /src/app.ts", await signedIn.Response.Content.ReadAsStringAsync());

        // The next visit needs no sign-in at all: the host's own cookie.
        var again = await browser.NavigateAsync(new Uri($"http://{id}.localhost:{host.ProxyPort}/other"));
        Assert.Equal("upstream saw /other", await again.Response.Content.ReadAsStringAsync());
        Assert.Equal(1, again.Hops);

        // A port host goes through the platform once more, and the platform session makes it a click-less hop.
        var port = await browser.NavigateAsync(new Uri($"http://3000-{id}.localhost:{host.ProxyPort}/"));
        Assert.Equal($"3000-{id}.localhost", port.Url.Host);
        Assert.NotEqual(HttpStatusCode.Unauthorized, port.Response.StatusCode);
        Assert.NotEqual("/signin", port.Url.AbsolutePath);
    }

    [Fact]
    public async Task Another_signed_in_user_visiting_the_workspace_host_gets_the_not_yours_page_and_no_cookie()
    {
        using var owner = await host.SignInAsync(Users.NewName("owner"));
        var id = await RunningWorkspaceAsync(owner);
        var mallory = Users.NewName("mallory");

        using var browser = new BrowserClient();
        await browser.PostFormAsync(new Uri(host.Api, "/signin/dev"), new() { ["user"] = mallory });
        var landed = await browser.NavigateAsync(new Uri($"http://{id}.localhost:{host.ProxyPort}/"));

        Assert.Equal(HttpStatusCode.Forbidden, landed.Response.StatusCode);
        Assert.Equal("/authorize", landed.Url.AbsolutePath);
        Assert.Contains("Not your workspace", await landed.Response.Content.ReadAsStringAsync());
        Assert.Empty(browser.Cookies.GetCookies(new Uri($"http://{id}.localhost:{host.ProxyPort}/")));

        // The same page for an id nobody has: nothing to learn by probing.
        var nobody = await browser.NavigateAsync(new Uri(host.Api, "/authorize?workspace=calm-otter-abcdefghij"));
        Assert.Equal(HttpStatusCode.Forbidden, nobody.Response.StatusCode);
        Assert.Contains("belongs to someone else, or does not exist", await nobody.Response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task Port_visibility_is_set_through_the_api_and_checked()
    {
        using var owner = await host.SignInAsync(Users.NewName("ports"));
        var id = (await (await owner.PostAsJsonAsync("/api/workspaces", new { repoUrl = "https://github.com/octo/hello" })).Content.ReadFromJsonAsync<JsonElement>())
            .GetProperty("id").GetString()!;

        var set = await owner.PutAsync($"/api/workspaces/{id}/ports/3000", Json("""{"visibility":"public"}"""));
        Assert.Equal(HttpStatusCode.OK, set.StatusCode);
        Assert.Equal([3000], (await set.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("publicPorts").EnumerateArray().Select(p => p.GetInt32()));

        await Problems.AssertAsync(await owner.PutAsync($"/api/workspaces/{id}/ports/3000", Json("""{"visibility":"everyone"}""")), HttpStatusCode.BadRequest, "visibility");
        await Problems.AssertAsync(await owner.PutAsync($"/api/workspaces/{id}/ports/99999", Json("""{"visibility":"public"}""")), HttpStatusCode.BadRequest, "port");
        await Problems.AssertAsync(await owner.PostAsync("/api/workspaces/calm-otter-abcdefghij/open", null), HttpStatusCode.NotFound);

        // The IDE's own port never opens to the world (8080 is just another port for a user's server).
        var ide = await Problems.AssertAsync(await owner.PutAsync($"/api/workspaces/{id}/ports/13337", Json("""{"visibility":"public"}""")), HttpStatusCode.BadRequest, "port");
        Assert.Contains("13337", ide.GetProperty("detail").GetString());
        Assert.Equal(HttpStatusCode.OK, (await owner.PutAsync($"/api/workspaces/{id}/ports/8080", Json("""{"visibility":"public"}"""))).StatusCode);
    }

    private static StringContent Json(string json) => new(json, Encoding.UTF8, new MediaTypeHeaderValue("application/json"));

    private static async Task<string> RunningWorkspaceAsync(HttpClient owner)
    {
        var created = await owner.PostAsJsonAsync("/api/workspaces", new { repoUrl = "https://github.com/octo/hello" });
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        var id = (await created.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetString()!;
        await Phases.WaitAsync(owner, id, "Running");
        return id;
    }
}
