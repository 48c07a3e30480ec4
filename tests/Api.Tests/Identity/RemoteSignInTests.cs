using System.Text.RegularExpressions;

namespace CloudDevEnv.Api.Tests.Identity;

/// <summary>Sign-in end to end against a real OpenID provider on loopback: the OIDC handler, the GitHub handler against
/// an OAuth 2.0 authorization-code server whose user endpoint answers <c>login</c>, admin by the provider's group claim,
/// and what a user sees when a provider is down or a callback is forged.</summary>
public sealed partial class RemoteSignInTests(RemoteSignInFixture fixture) : IClassFixture<RemoteSignInFixture>
{
    [Fact]
    public async Task The_sign_in_page_offers_the_configured_providers_and_no_development_sign_in()
    {
        using var browser = new BrowserClient();
        var page = await browser.NavigateAsync(new Uri(fixture.Api, "/"));
        Assert.Equal("/signin", page.Url.AbsolutePath);
        var html = await page.Response.Content.ReadAsStringAsync();
        Assert.Contains("Continue with Corp SSO", html);
        Assert.Contains("Continue with GitHub", html);
        Assert.DoesNotContain("Development sign-in", html);

        var dev = await browser.PostFormAsync(new Uri(fixture.Api, "/signin/dev"), new() { ["user"] = "mallory" });
        Assert.Equal(HttpStatusCode.NotFound, dev.Response.StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await browser.NavigateAsync(new Uri(fixture.Api, "/api/me"))).Response.StatusCode);
    }

    [Fact]
    public async Task Openid_connect_signs_the_user_in_with_their_provider_user_name()
    {
        using var browser = new BrowserClient();
        var me = await SignInAsync(browser, "/signin/oidc-corp?returnUrl=%2Fapi%2Fme", "alice");

        Assert.Equal(fixture.Api.Authority, me.Url.Authority);
        Assert.Equal("/api/me", me.Url.AbsolutePath);
        var body = await me.Response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal("alice", body.GetProperty("user").GetString());
        Assert.Empty(body.GetProperty("roles").EnumerateArray());
        Assert.False(body.GetProperty("devSignIn").GetBoolean());
        Assert.False(string.IsNullOrEmpty(body.GetProperty("csrfToken").GetString()));

        var dashboard = await browser.NavigateAsync(new Uri(fixture.Api, "/dashboard/"));
        Assert.Equal(HttpStatusCode.Forbidden, dashboard.Response.StatusCode);
    }

    [Fact]
    public async Task A_member_of_the_configured_group_is_an_admin()
    {
        using var browser = new BrowserClient();
        var me = await SignInAsync(browser, "/signin/oidc-corp?returnUrl=%2Fapi%2Fme", RemoteSignInFixture.AdminLogin);

        var body = await me.Response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal(["admin"], body.GetProperty("roles").EnumerateArray().Select(r => r.GetString()!));
        var dashboard = await browser.NavigateAsync(new Uri(fixture.Api, "/dashboard/"));
        Assert.Equal(HttpStatusCode.OK, dashboard.Response.StatusCode);
    }

    [Fact]
    public async Task Github_signs_the_user_in_by_their_login_with_the_configured_prefix()
    {
        using var browser = new BrowserClient();
        var me = await SignInAsync(browser, "/signin/github?returnUrl=%2Fapi%2Fme", "Carol");

        var body = await me.Response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal("gh.carol", body.GetProperty("user").GetString());

        // The group claim makes admins through OpenID Connect only; GitHub's admins are named in Auth:Admins.
        Assert.Empty(body.GetProperty("roles").EnumerateArray());
    }

    [Fact]
    public async Task A_provider_that_is_down_gives_a_sign_in_page_that_says_so()
    {
        using var browser = new BrowserClient();
        var page = await browser.NavigateAsync(new Uri(fixture.Api, "/signin/oidc-down?returnUrl=%2F"));

        Assert.Equal(HttpStatusCode.ServiceUnavailable, page.Response.StatusCode);
        Assert.Equal("text/html", page.Response.Content.Headers.ContentType?.MediaType);
        var html = await page.Response.Content.ReadAsStringAsync();
        Assert.Contains("could not be reached", html);
        Assert.DoesNotContain("Exception", html);
        Assert.DoesNotContain("   at ", html);
    }

    [Fact]
    public async Task A_forged_callback_is_sent_back_to_the_sign_in_page_without_a_session()
    {
        using var browser = new BrowserClient();
        var page = await browser.NavigateAsync(new Uri(fixture.Api, "/signin/oidc-corp/callback?code=forged&state=forged"));

        Assert.Equal("/signin", page.Url.AbsolutePath);
        Assert.Contains("did not complete the sign-in", await page.Response.Content.ReadAsStringAsync());
        Assert.Equal(HttpStatusCode.Unauthorized, (await browser.NavigateAsync(new Uri(fixture.Api, "/api/me"))).Response.StatusCode);
    }

    [Fact]
    public async Task An_unknown_provider_is_a_404_page()
    {
        using var browser = new BrowserClient();
        var page = await browser.NavigateAsync(new Uri(fixture.Api, "/signin/oidc-nope"));
        Assert.Equal(HttpStatusCode.NotFound, page.Response.StatusCode);
        Assert.Contains("no such sign-in provider", await page.Response.Content.ReadAsStringAsync());
    }

    /// <summary>Starts a sign-in at <paramref name="start"/>, logs in at the provider's own pages (its development
    /// interactions take any password) and consents, as a person would, following every redirect.</summary>
    private async Task<BrowserClient.Visit> SignInAsync(BrowserClient browser, string start, string login)
    {
        var visit = await browser.NavigateAsync(new Uri(fixture.Api, start));
        for (var step = 0; step < 4; step++)
        {
            if (visit.Url.Authority != fixture.Provider.Issuer.Authority)
            {
                return visit;
            }

            var html = await visit.Response.Content.ReadAsStringAsync();
            var action = FormAction().Match(html);
            Assert.True(action.Success, $"No form on the provider's page {visit.Url}:\n{html}\n{fixture.Provider.Output}");
            var target = new Uri(visit.Url, System.Net.WebUtility.HtmlDecode(action.Groups[1].Value));
            var fields = html.Contains("name=\"login\"", StringComparison.Ordinal)
                ? new Dictionary<string, string> { ["prompt"] = "login", ["login"] = login, ["password"] = "any" }
                : new Dictionary<string, string> { ["prompt"] = "consent" };
            visit = await browser.PostFormAsync(target, fields);
        }

        Assert.Fail($"The sign-in did not come back from the provider:\n{fixture.Provider.Output}");
        return visit;
    }

    [GeneratedRegex("<form[^>]*action=\"([^\"]+)\"")]
    private static partial Regex FormAction();
}
