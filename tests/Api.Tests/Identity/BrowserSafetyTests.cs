namespace CloudDevEnv.Api.Tests.Identity;

/// <summary>What a hostile page in the user's browser could try: forge a state-changing request (CSRF), reach the API
/// under its own host name (DNS rebinding), open the operator dashboard; and a script launching without bound.</summary>
[Collection(HostCollection.Name)]
public sealed class BrowserSafetyTests(HostFixture host)
{
    [Fact]
    public async Task A_session_call_without_the_csrf_header_is_refused_and_changes_nothing()
    {
        var name = Users.NewName();
        using var user = await host.SignInAsync(name);
        user.DefaultRequestHeaders.Remove("X-CSRF-Token");

        var missing = await user.PostAsJsonAsync("/api/workspaces", new { repoUrl = "https://github.com/octo/hello" });
        var problem = await Problems.AssertAsync(missing, HttpStatusCode.Forbidden);
        Assert.Contains("X-CSRF-Token", problem.GetProperty("detail").GetString());

        user.DefaultRequestHeaders.Add("X-CSRF-Token", "not-the-token");
        await Problems.AssertAsync(await user.PostAsJsonAsync("/api/workspaces", new { repoUrl = "https://github.com/octo/hello" }), HttpStatusCode.Forbidden);
        await Problems.AssertAsync(await user.PostAsJsonAsync("/api/tokens", new { name = "x" }), HttpStatusCode.Forbidden);
        await Problems.AssertAsync(await user.PostAsync("/signout", null), HttpStatusCode.Forbidden);

        // Reads need none, and nothing was made.
        Assert.Equal(0, (await user.GetFromJsonAsync<JsonElement>("/api/workspaces")).GetArrayLength());
        Assert.Equal(0, (await user.GetFromJsonAsync<JsonElement>("/api/tokens")).GetArrayLength());
    }

    [Fact]
    public async Task A_bearer_call_needs_no_csrf_header()
    {
        using var session = await host.SignInAsync(Users.NewName());
        using var script = Users.WithToken(host.Api, (await Users.CreateTokenAsync(session)).Token);
        var created = await script.PostAsJsonAsync("/api/workspaces", new { repoUrl = "https://github.com/octo/hello" });
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
    }

    [Fact]
    public async Task A_request_from_a_page_of_another_site_is_refused_even_with_the_token()
    {
        using var user = await host.SignInAsync(Users.NewName());
        using var request = new HttpRequestMessage(HttpMethod.Post, "/api/workspaces")
        {
            Content = JsonContent.Create(new { repoUrl = "https://github.com/octo/hello" }),
        };
        request.Headers.Add("Origin", "http://evil.example");
        await Problems.AssertAsync(await user.SendAsync(request), HttpStatusCode.Forbidden);

        // A form on another site posting the development sign-in (login CSRF) is refused too.
        using var anonymous = new HttpClient(new HttpClientHandler { AllowAutoRedirect = false }) { BaseAddress = host.Api };
        using var login = new HttpRequestMessage(HttpMethod.Post, "/signin/dev")
        {
            Content = new FormUrlEncodedContent(new Dictionary<string, string> { ["user"] = "attacker" }),
        };
        login.Headers.Add("Origin", "http://evil.example");
        var refused = await anonymous.SendAsync(login);
        Assert.Equal(HttpStatusCode.Forbidden, refused.StatusCode);
        Assert.False(refused.Headers.Contains("Set-Cookie"));

        Assert.Equal(0, (await user.GetFromJsonAsync<JsonElement>("/api/workspaces")).GetArrayLength());
    }

    [Theory]
    [InlineData("evil.example")]
    [InlineData("evil.example:{port}")]
    [InlineData("127.0.0.1.nip.io:{port}")]
    [InlineData("localhost:1")]
    public async Task A_foreign_host_name_is_refused_so_dns_rebinding_reaches_nothing(string hostHeader)
    {
        using var user = await host.SignInAsync(Users.NewName());
        using var request = new HttpRequestMessage(HttpMethod.Get, "/api/me");
        request.Headers.Host = hostHeader.Replace("{port}", host.Api.Port.ToString(System.Globalization.CultureInfo.InvariantCulture));
        var problem = await Problems.AssertAsync(await user.SendAsync(request), HttpStatusCode.BadRequest);
        Assert.Equal("https://clouddevenv.dev/problems/unknown-host", problem.GetProperty("type").GetString());

        // localhost:<port> is the other name the API answers.
        using var local = new HttpRequestMessage(HttpMethod.Get, "/api/me");
        local.Headers.Host = $"localhost:{host.Api.Port}";
        Assert.Equal(HttpStatusCode.OK, (await user.SendAsync(local)).StatusCode);

        // Probes reach the health endpoints by address.
        using var probe = new HttpRequestMessage(HttpMethod.Get, "/healthz");
        probe.Headers.Host = "10.1.2.3:8080";
        Assert.Equal(HttpStatusCode.OK, (await host.Http.SendAsync(probe)).StatusCode);
    }

    [Fact]
    public async Task The_dashboard_sends_a_browser_to_sign_in_and_refuses_users_who_are_not_admins()
    {
        using var browser = new BrowserClient();
        var anonymous = await browser.NavigateAsync(new Uri(host.Api, "/dashboard/"));
        Assert.Equal("/signin", anonymous.Url.AbsolutePath);
        Assert.Equal("/dashboard/", System.Web.HttpUtility.ParseQueryString(anonymous.Url.Query)["returnUrl"]);

        await browser.PostFormAsync(new Uri(host.Api, "/signin/dev"), new() { ["user"] = Users.NewName() });
        var user = await browser.NavigateAsync(new Uri(host.Api, "/dashboard/"));
        Assert.Equal(HttpStatusCode.Forbidden, user.Response.StatusCode);
        Assert.Contains("Administrators only", await user.Response.Content.ReadAsStringAsync());

        // Its data too, not just its page.
        using var session = await host.SignInAsync(Users.NewName());
        Assert.Equal(HttpStatusCode.Forbidden, (await session.GetAsync("/dashboard/DashboardCounters")).StatusCode);
    }

    [Fact]
    public async Task Launches_are_rate_limited_per_user_with_retry_after()
    {
        using var busy = await host.SignInAsync(Users.NewName("busy"));
        for (var i = 0; i < HostFixture.CreateLimit; i++)
        {
            // The first ones launch, the rest hit the quota of running workspaces: both count.
            var response = await busy.PostAsJsonAsync("/api/workspaces", new { repoUrl = "https://github.com/octo/hello" });
            Assert.True(response.StatusCode is HttpStatusCode.Created or HttpStatusCode.Forbidden);
        }

        var limited = await busy.PostAsJsonAsync("/api/workspaces", new { repoUrl = "https://github.com/octo/hello" });
        var problem = await Problems.AssertAsync(limited, HttpStatusCode.TooManyRequests);
        Assert.Equal("https://clouddevenv.dev/problems/rate-limited", problem.GetProperty("type").GetString());
        Assert.True(limited.Headers.RetryAfter?.Delta > TimeSpan.Zero, "Retry-After says when to try again");
        Assert.Equal($"\"launches\";q={HostFixture.CreateLimit};w=3600", Assert.Single(limited.Headers.GetValues("RateLimit-Policy")));
        Assert.Matches(@"^""launches"";r=0;t=\d+$", Assert.Single(limited.Headers.GetValues("RateLimit")));

        using var other = await host.SignInAsync(Users.NewName("calm"));
        Assert.Equal(HttpStatusCode.Created, (await other.PostAsJsonAsync("/api/workspaces", new { repoUrl = "https://github.com/octo/hello" })).StatusCode);
    }
}
