using System.Net.Http.Headers;
using CloudDevEnv.Contracts.Identity;

namespace CloudDevEnv.Api.Tests.Identity;

/// <summary>The development sign-in, <c>/api/me</c>, signing out, and API tokens: shown once, stored as a hash, refused
/// at once when revoked, and only ever taken from the Authorization header.</summary>
[Collection(HostCollection.Name)]
public sealed class SessionAndTokenTests(HostFixture host)
{
    private static HttpClient NewBrowser(Uri api) =>
        new(new HttpClientHandler { CookieContainer = new CookieContainer(), AllowAutoRedirect = false }) { BaseAddress = api };

    [Theory]
    [InlineData(null, "/")]
    [InlineData("/api/me", "/api/me")]
    [InlineData("/authorize?workspace=x&return=%2F", "/authorize?workspace=x&return=%2F")]
    [InlineData("//evil.example/", "/")]
    [InlineData("/\\evil.example/", "/")]
    [InlineData("http://evil.example/", "/")]
    [InlineData("/\t/evil.example", "/")]
    public async Task The_development_sign_in_answers_303_to_a_same_site_return_url_only(string? returnUrl, string location)
    {
        using var browser = NewBrowser(host.Api);
        var form = new Dictionary<string, string> { ["user"] = Users.NewName() };
        if (returnUrl is not null)
        {
            form["returnUrl"] = returnUrl;
        }

        var response = await browser.PostAsync("/signin/dev", new FormUrlEncodedContent(form));
        Assert.Equal(HttpStatusCode.SeeOther, response.StatusCode);
        Assert.Equal(location, response.Headers.Location!.OriginalString);
        Assert.Contains("httponly", response.Headers.GetValues("Set-Cookie").Single(), StringComparison.OrdinalIgnoreCase);
    }

    [Theory]
    [InlineData("")]
    [InlineData("a b")]
    [InlineData("@platform")]
    [InlineData("-dash")]
    [InlineData("x|y")]
    public async Task A_bad_user_name_is_a_400_page_and_no_session(string user)
    {
        using var browser = NewBrowser(host.Api);
        var response = await browser.PostAsync("/signin/dev", new FormUrlEncodedContent(new Dictionary<string, string> { ["user"] = user }));
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains("cannot be used here", await response.Content.ReadAsStringAsync());
        Assert.False(response.Headers.Contains("Set-Cookie"));
        Assert.Equal(HttpStatusCode.Unauthorized, (await browser.GetAsync("/api/me")).StatusCode);
    }

    [Fact]
    public async Task The_sign_in_page_says_the_development_sign_in_is_one()
    {
        var html = await host.Http.GetStringAsync("/signin");
        Assert.Contains("Development sign-in", html);
        Assert.Contains("anyone who can reach this address can act as anyone", html);
        Assert.Contains("<label for=\"user\">User name</label>", html);
        Assert.Contains(">Sign in</button>", html);
    }

    [Fact]
    public async Task Me_names_the_user_their_roles_and_a_csrf_token_for_sessions_only()
    {
        var name = Users.NewName();
        using var user = await host.SignInAsync(name);
        var me = await user.GetFromJsonAsync<JsonElement>("/api/me");
        Assert.Equal(name, me.GetProperty("user").GetString());
        Assert.Empty(me.GetProperty("roles").EnumerateArray());
        Assert.True(me.GetProperty("devSignIn").GetBoolean());

        using var admin = await host.SignInAsync(HostFixture.Admin);
        var adminMe = await admin.GetFromJsonAsync<JsonElement>("/api/me");
        Assert.Equal(["admin"], adminMe.GetProperty("roles").EnumerateArray().Select(r => r.GetString()!));

        using var script = Users.WithToken(host.Api, (await Users.CreateTokenAsync(user)).Token);
        var scriptMe = await script.GetFromJsonAsync<JsonElement>("/api/me");
        Assert.Equal(name, scriptMe.GetProperty("user").GetString());
        Assert.Equal(JsonValueKind.Null, scriptMe.GetProperty("csrfToken").ValueKind);
    }

    [Fact]
    public async Task User_names_are_case_insensitive()
    {
        var name = Users.NewName();
        using var browser = NewBrowser(host.Api);
        await browser.PostAsync("/signin/dev", new FormUrlEncodedContent(new Dictionary<string, string> { ["user"] = name.ToUpperInvariant() }));
        Assert.Equal(name, (await browser.GetFromJsonAsync<JsonElement>("/api/me")).GetProperty("user").GetString());
    }

    [Fact]
    public async Task Signing_out_ends_the_browser_session()
    {
        using var user = await host.SignInAsync(Users.NewName());
        var signOut = await user.PostAsync("/signout", null);
        Assert.Equal(HttpStatusCode.SeeOther, signOut.StatusCode);
        Assert.Equal("/signin", signOut.Headers.Location!.OriginalString);
        Assert.Equal(HttpStatusCode.Unauthorized, (await user.GetAsync("/api/me")).StatusCode);
    }

    [Fact]
    public async Task A_token_is_shown_once_listed_without_its_secret_and_works_until_revoked()
    {
        var name = Users.NewName();
        using var session = await host.SignInAsync(name);
        var created = await session.PostAsJsonAsync("/api/tokens", new { name = "ci", expiresInDays = 7 });
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        var body = await created.Content.ReadFromJsonAsync<JsonElement>();
        var id = body.GetProperty("id").GetString()!;
        var token = body.GetProperty("token").GetString()!;
        Assert.StartsWith("cde_" + id + "_", token);
        Assert.Equal($"/api/tokens/{id}", created.Headers.Location!.OriginalString);
        var expires = body.GetProperty("expiresAt").GetDateTimeOffset();
        Assert.InRange(expires - DateTimeOffset.UtcNow, TimeSpan.FromDays(7) - TimeSpan.FromMinutes(1), TimeSpan.FromDays(7));

        var listed = await session.GetStringAsync("/api/tokens");
        Assert.Contains(id, listed);
        Assert.Contains("\"ci\"", listed);
        Assert.DoesNotContain(token, listed);
        Assert.DoesNotContain(token[(token.LastIndexOf('_') + 1)..], listed);

        using var script = Users.WithToken(host.Api, token);
        var launched = await script.PostAsJsonAsync("/api/workspaces", new { repoUrl = "https://github.com/octo/hello" });
        Assert.Equal(HttpStatusCode.Created, launched.StatusCode);
        Assert.Equal(name, (await launched.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("owner").GetString());

        Assert.Equal(HttpStatusCode.NoContent, (await session.DeleteAsync($"/api/tokens/{id}")).StatusCode);
        var refused = await script.GetAsync("/api/workspaces");
        var problem = await Problems.AssertAsync(refused, HttpStatusCode.Unauthorized);
        Assert.Contains("unknown, revoked or expired", problem.GetProperty("detail").GetString());
        Assert.Equal("Bearer", refused.Headers.WwwAuthenticate.Single().Scheme);
        Assert.DoesNotContain(id, await session.GetStringAsync("/api/tokens"));
        await Problems.AssertAsync(await session.DeleteAsync($"/api/tokens/{id}"), HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task An_expired_token_is_refused_and_leaves_the_list()
    {
        var name = Users.NewName();
        using var session = await host.SignInAsync(name);
        using var expired = Users.WithToken(host.Api, await Callers.ExpiredTokenAsync(host, name));
        await Problems.AssertAsync(await expired.GetAsync("/api/me"), HttpStatusCode.Unauthorized);
    }

    [Theory]
    [InlineData("Bearer cde_")]
    [InlineData("Bearer cde_abcdefghijklmnop_tooshort")]
    [InlineData("Bearer cde_ABCDEFGHIJKLMNOP_aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa")]
    [InlineData("Bearer ghp_aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa")]
    [InlineData("Basic YWRhOnNlY3JldA==")]
    [InlineData("Bearer")]
    public async Task Malformed_and_foreign_tokens_are_401_problems_naming_nothing_secret(string authorization)
    {
        using var client = new HttpClient { BaseAddress = host.Api };
        client.DefaultRequestHeaders.TryAddWithoutValidation("Authorization", authorization);
        var response = await client.GetAsync("/api/workspaces");
        var problem = await Problems.AssertAsync(response, HttpStatusCode.Unauthorized);
        var text = problem.ToString();
        Assert.DoesNotContain("aaaaaaaa", text);
        Assert.DoesNotContain("YWRh", text);
    }

    [Fact]
    public async Task A_token_of_the_right_shape_with_a_wrong_secret_is_refused()
    {
        using var session = await host.SignInAsync(Users.NewName());
        var (id, token) = await Users.CreateTokenAsync(session);
        var wrong = ApiTokenFormat.Format(id, ApiTokenFormat.NewSecret());
        Assert.NotEqual(token, wrong);
        using var client = Users.WithToken(host.Api, wrong);
        await Problems.AssertAsync(await client.GetAsync("/api/me"), HttpStatusCode.Unauthorized);
    }

    [Theory]
    [InlineData("access_token")]
    [InlineData("token")]
    public async Task A_token_in_the_query_string_is_refused_even_alongside_a_session(string parameter)
    {
        using var session = await host.SignInAsync(Users.NewName());
        var (_, token) = await Users.CreateTokenAsync(session);
        var problem = await Problems.AssertAsync(await session.GetAsync($"/api/workspaces?{parameter}={token}"), HttpStatusCode.Unauthorized);
        Assert.Contains("Authorization: Bearer", problem.GetProperty("detail").GetString());
        Assert.DoesNotContain(token, problem.ToString());
    }

    [Theory]
    [InlineData("""{"expiresInDays":7}""", "name")]
    [InlineData("""{"name":"   "}""", "name")]
    [InlineData("""{"name":"ci","expiresInDays":0}""", "expiresInDays")]
    [InlineData("""{"name":"ci","expiresInDays":400}""", "expiresInDays")]
    [InlineData("""{"name":"ci","expiresInDays":2147483647}""", "expiresInDays")]
    [InlineData("""{"name":"ci","scope":"all"}""", "scope")]
    public async Task Bad_token_requests_are_400_problems_and_create_nothing(string json, string field)
    {
        using var session = await host.SignInAsync(Users.NewName());
        var response = await session.PostAsync("/api/tokens", new StringContent(json, System.Text.Encoding.UTF8, new MediaTypeHeaderValue("application/json")));
        await Problems.AssertAsync(response, HttpStatusCode.BadRequest, field);
        Assert.Equal(0, (await session.GetFromJsonAsync<JsonElement>("/api/tokens")).GetArrayLength());
    }
}
