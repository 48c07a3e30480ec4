using CloudDevEnv.Proxy.Access;
using CloudDevEnv.Proxy.Tests.Infrastructure;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;

namespace CloudDevEnv.Proxy.Tests;

public sealed class TokenAndCookieTests
{
    [Fact]
    public void A_sign_in_url_points_at_the_ide_host_and_carries_a_token_for_it()
    {
        using var services = TestServices.Build();
        var url = services.GetRequiredService<IWorkspaceAccessTokens>().CreateSignInUrl("brave-otter-1234", "alice");

        Assert.Equal("brave-otter-1234.localhost", url.Host);
        Assert.Equal(5080, url.Port);
        Assert.Equal("/_cde/signin", url.AbsolutePath);
        var token = Uri.UnescapeDataString(url.Query["?token=".Length..]);
        var grant = services.GetRequiredService<WorkspaceAccessTokens>().ReadToken(token);
        Assert.NotNull(grant);
        Assert.Equal(("brave-otter-1234", "alice"), (grant.Label, grant.Owner));
    }

    [Fact]
    public void Tokens_are_unique_and_expire()
    {
        var time = new FakeTimeProvider(DateTimeOffset.Parse("2030-01-01T00:00:00Z"));
        using var services = TestServices.Build(time: time);
        var tokens = services.GetRequiredService<WorkspaceAccessTokens>();

        var first = tokens.CreateToken("abc", "alice");
        var second = tokens.CreateToken("abc", "alice");
        Assert.NotEqual(tokens.ReadToken(first)!.Nonce, tokens.ReadToken(second)!.Nonce);

        time.Advance(TimeSpan.FromSeconds(61));
        Assert.Null(tokens.ReadToken(first));
    }

    [Fact]
    public void A_token_signed_with_another_key_or_altered_is_refused()
    {
        using var ours = TestServices.Build();
        using var theirs = TestServices.Build(new Dictionary<string, string?>
        {
            ["Proxy:SigningKey"] = Convert.ToBase64String(new byte[32]),
        });
        var foreign = theirs.GetRequiredService<WorkspaceAccessTokens>().CreateToken("abc", "alice");
        var tokens = ours.GetRequiredService<WorkspaceAccessTokens>();
        Assert.Null(tokens.ReadToken(foreign));

        var token = tokens.CreateToken("abc", "alice");
        var dot = token.IndexOf('.');
        var payload = System.Text.Encoding.UTF8.GetString(System.Buffers.Text.Base64Url.DecodeFromChars(token.AsSpan(0, dot)));
        var forged = System.Buffers.Text.Base64Url.EncodeToString(System.Text.Encoding.UTF8.GetBytes(payload.Replace("alice", "mallory")))
            + token[dot..];
        Assert.Null(tokens.ReadToken(forged));
        Assert.Null(tokens.ReadToken("garbage"));
        Assert.Null(tokens.ReadToken(null));
    }

    [Fact]
    public void A_cookie_is_never_taken_for_a_token_nor_the_reverse()
    {
        using var services = TestServices.Build();
        var signer = services.GetRequiredService<SignedValue>();
        var cookieValue = signer.Sign(new AccessGrant(AccessGrant.CookiePurpose, "abc", "alice", DateTimeOffset.UtcNow.AddHours(1), "n").Serialize());
        Assert.Null(services.GetRequiredService<WorkspaceAccessTokens>().ReadToken(cookieValue));

        var cookies = new AccessCookies(
            signer, services.GetRequiredService<IOptions<WorkspaceProxyOptions>>(), services.GetRequiredService<IOptions<PublicAddressOptions>>(), TimeProvider.System);
        var token = services.GetRequiredService<WorkspaceAccessTokens>().CreateToken("abc", "alice");
        var context = new DefaultHttpContext();
        context.Request.Headers.Cookie = $"{cookies.Name}={token}";
        Assert.Null(cookies.Read(context.Request, "abc"));
    }

    [Fact]
    public void The_cookie_is_host_only_httponly_lax_and_bound_to_its_host()
    {
        using var services = TestServices.Build();
        var cookies = new AccessCookies(
            services.GetRequiredService<SignedValue>(), services.GetRequiredService<IOptions<WorkspaceProxyOptions>>(),
            services.GetRequiredService<IOptions<PublicAddressOptions>>(), TimeProvider.System);
        var response = new DefaultHttpContext().Response;
        cookies.Issue(response, "abc", "alice");

        var setCookie = response.Headers.SetCookie.ToString();
        Assert.StartsWith("cde_access=", setCookie);
        Assert.Contains("httponly", setCookie, StringComparison.OrdinalIgnoreCase);
        Assert.Contains("samesite=lax", setCookie, StringComparison.OrdinalIgnoreCase);
        Assert.Contains("path=/", setCookie, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("domain", setCookie, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("secure", setCookie, StringComparison.OrdinalIgnoreCase);

        var value = setCookie.Split(';')[0]["cde_access=".Length..];
        var request = new DefaultHttpContext().Request;
        request.Headers.Cookie = $"cde_access={value}";
        Assert.Equal("alice", cookies.Read(request, "abc")!.Owner);
        Assert.Null(cookies.Read(request, "other"));
        Assert.Null(cookies.Read(request, "3000-abc"));
    }

    [Fact]
    public void Under_https_the_cookie_is_secure_and_host_prefixed()
    {
        using var services = TestServices.Build(new Dictionary<string, string?> { ["Proxy:PublicScheme"] = "https" });
        var cookies = new AccessCookies(
            services.GetRequiredService<SignedValue>(), services.GetRequiredService<IOptions<WorkspaceProxyOptions>>(),
            services.GetRequiredService<IOptions<PublicAddressOptions>>(), TimeProvider.System);
        var response = new DefaultHttpContext().Response;
        cookies.Issue(response, "abc", "alice");

        var setCookie = response.Headers.SetCookie.ToString();
        Assert.StartsWith("__Host-cde_access=", setCookie);
        Assert.Contains("secure", setCookie, StringComparison.OrdinalIgnoreCase);
    }

    [Theory]
    [InlineData("/", "/")]
    [InlineData("/a/b?c=d", "/a/b?c=d")]
    [InlineData(null, "/")]
    [InlineData("", "/")]
    [InlineData("//evil.example", "/")]
    [InlineData("/\\evil.example", "/")]
    [InlineData("http://evil.example/", "/")]
    [InlineData("evil", "/")]
    [InlineData("/\t/evil.example", "/")]
    [InlineData("/a\r\nSet-Cookie: x=y", "/")]
    [InlineData("/a\\b", "/")]
    [InlineData("/a\u0000", "/")]
    [InlineData("/%2f%2fevil.example", "/%2f%2fevil.example")]
    [InlineData("javascript:alert(1)", "/")]
    public void Return_paths_stay_on_the_host(string? value, string expected) =>
        Assert.Equal(expected, ReturnPath.Sanitize(value));

    [Fact]
    public void A_return_path_over_2_KiB_is_refused() =>
        Assert.Equal("/", ReturnPath.Sanitize("/" + new string('a', ReturnPath.MaxLength)));
}
