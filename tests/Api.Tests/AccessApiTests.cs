using System.Net.Http.Headers;
using System.Text;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;

namespace CloudDevEnv.Api.Tests;

/// <summary>The sign-in link from the API, redeemed at the proxy listener of the same host, reaching an upstream.</summary>
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
        var created = await host.Http.PostAsJsonAsync("/api/workspaces", new { repoUrl = "https://github.com/octo/hello", owner = "opener" + Guid.NewGuid().ToString("N")[..6] });
        var id = (await created.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetString()!;
        await WaitForRunningAsync(id);

        var open = await host.Http.PostAsync($"/api/workspaces/{id}/open", null);
        Assert.Equal(HttpStatusCode.OK, open.StatusCode);
        var url = new Uri((await open.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("url").GetString()!);
        Assert.Equal($"{id}.localhost", url.Host);

        // *.localhost is loopback; connect explicitly so the test needs no resolver.
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
    public async Task Port_visibility_is_set_through_the_api_and_checked()
    {
        var created = await host.Http.PostAsJsonAsync("/api/workspaces", new { repoUrl = "https://github.com/octo/hello", owner = "ports" + Guid.NewGuid().ToString("N")[..6] });
        var id = (await created.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetString()!;

        var set = await host.Http.PutAsync($"/api/workspaces/{id}/ports/3000", Json("""{"visibility":"public"}"""));
        Assert.Equal(HttpStatusCode.OK, set.StatusCode);
        Assert.Equal([3000], (await set.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("publicPorts").EnumerateArray().Select(p => p.GetInt32()));

        await Problems.AssertAsync(await host.Http.PutAsync($"/api/workspaces/{id}/ports/3000", Json("""{"visibility":"everyone"}""")), HttpStatusCode.BadRequest, "visibility");
        await Problems.AssertAsync(await host.Http.PutAsync($"/api/workspaces/{id}/ports/99999", Json("""{"visibility":"public"}""")), HttpStatusCode.BadRequest, "port");
        await Problems.AssertAsync(await host.Http.PostAsync("/api/workspaces/calm-otter-abcdefghij/open", null), HttpStatusCode.NotFound);
    }

    private static StringContent Json(string json) => new(json, Encoding.UTF8, new MediaTypeHeaderValue("application/json"));

    private async Task WaitForRunningAsync(string id)
    {
        var deadline = DateTime.UtcNow.AddSeconds(15);
        while ((await host.Http.GetFromJsonAsync<JsonElement>($"/api/workspaces/{id}")).GetProperty("phase").GetString() != "Running")
        {
            Assert.True(DateTime.UtcNow < deadline, $"{id} did not reach Running");
            await Task.Delay(50);
        }
    }
}
