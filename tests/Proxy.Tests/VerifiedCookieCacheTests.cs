using System.Buffers.Text;
using System.Text;
using CloudDevEnv.Proxy.Access;
using CloudDevEnv.Proxy.Tests.Infrastructure;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;

namespace CloudDevEnv.Proxy.Tests;

/// <summary>The cache of verified access cookies must never let through what the HMAC check alone would refuse.</summary>
public sealed class VerifiedCookieCacheTests
{
    private static readonly DateTimeOffset Start = DateTimeOffset.Parse("2030-01-01T00:00:00Z");

    [Fact]
    public void A_cookie_read_twice_is_verified_once_and_read_the_same()
    {
        var (cookies, _, _) = Build();
        var value = Issue(cookies, "abc", "alice");

        Assert.Equal("alice", Read(cookies, value, "abc")!.Owner);
        Assert.Equal(1, cookies.CachedCount);
        Assert.Equal("alice", Read(cookies, value, "abc")!.Owner);
        Assert.Equal(1, cookies.CachedCount);
    }

    [Fact]
    public void A_tampered_cookie_is_refused_even_after_the_genuine_one_is_cached()
    {
        var (cookies, _, _) = Build();
        var value = Issue(cookies, "abc", "alice");
        Assert.NotNull(Read(cookies, value, "abc"));

        var dot = value.IndexOf('.');
        var payload = Encoding.UTF8.GetString(Base64Url.DecodeFromChars(value.AsSpan(0, dot)));

        // Another owner under the genuine signature.
        var otherOwner = Base64Url.EncodeToString(Encoding.UTF8.GetBytes(payload.Replace("alice", "mallory"))) + value[dot..];
        Assert.Null(Read(cookies, otherOwner, "abc"));

        // The genuine payload under a signature with one character changed.
        var mac = value[(dot + 1)..];
        var badMac = value[..(dot + 1)] + (mac[0] == 'A' ? 'B' : 'A') + mac[1..];
        Assert.Null(Read(cookies, badMac, "abc"));

        // The genuine value with something after it.
        Assert.Null(Read(cookies, value + "A", "abc"));

        Assert.Equal(1, cookies.CachedCount);
        Assert.Equal("alice", Read(cookies, value, "abc")!.Owner);
    }

    [Fact]
    public void A_cached_cookie_is_refused_once_it_has_expired()
    {
        var (cookies, time, lifetime) = Build();
        var value = Issue(cookies, "abc", "alice");
        Assert.NotNull(Read(cookies, value, "abc"));

        time.Advance(lifetime - TimeSpan.FromSeconds(1));
        Assert.NotNull(Read(cookies, value, "abc"));

        time.Advance(TimeSpan.FromSeconds(1));
        Assert.Null(Read(cookies, value, "abc"));
        Assert.Equal(0, cookies.CachedCount);
    }

    [Fact]
    public void A_cached_cookie_of_one_workspace_host_never_opens_another()
    {
        var (cookies, _, _) = Build();
        var value = Issue(cookies, "abc", "alice");
        Assert.NotNull(Read(cookies, value, "abc"));

        Assert.Null(Read(cookies, value, "def"));
        Assert.Null(Read(cookies, value, "3000-abc"));
        Assert.NotNull(Read(cookies, value, "abc"));
    }

    [Fact]
    public void Only_cookies_that_verified_are_cached()
    {
        var (cookies, _, _) = Build();
        using var theirs = TestServices.Build(new Dictionary<string, string?> { ["Proxy:SigningKey"] = Convert.ToBase64String(new byte[32]) });
        var foreignCookies = new AccessCookies(
            theirs.GetRequiredService<SignedValue>(), theirs.GetRequiredService<IOptions<WorkspaceProxyOptions>>(),
            theirs.GetRequiredService<IOptions<PublicAddressOptions>>(), new FakeTimeProvider(Start));
        var foreign = Issue(foreignCookies, "abc", "alice");

        Assert.Null(Read(cookies, foreign, "abc"));
        Assert.Null(Read(cookies, "garbage", "abc"));
        Assert.Equal(0, cookies.CachedCount);
    }

    [Fact]
    public void The_cache_keeps_to_its_bound_and_drops_the_soonest_to_expire()
    {
        var cache = new VerifiedCookieCache(capacity: 4);
        for (var i = 0; i < 10; i++)
        {
            cache.Add($"value-{i}", Grant(Start.AddMinutes(10 + i)), Start);
            Assert.True(cache.Count <= 4);
        }

        Assert.Equal(4, cache.Count);
        for (var i = 6; i < 10; i++)
        {
            Assert.True(cache.TryGet($"value-{i}", Start, out _), $"value-{i}");
        }

        Assert.False(cache.TryGet("value-0", Start, out _));
    }

    [Fact]
    public void A_full_cache_drops_expired_entries_first()
    {
        var cache = new VerifiedCookieCache(capacity: 3);
        cache.Add("long", Grant(Start.AddHours(3)), Start);
        cache.Add("short-1", Grant(Start.AddMinutes(1)), Start);
        cache.Add("short-2", Grant(Start.AddMinutes(2)), Start);

        var later = Start.AddMinutes(5);
        cache.Add("new", Grant(later.AddHours(3)), later);

        Assert.Equal(2, cache.Count);
        Assert.True(cache.TryGet("long", later, out _));
        Assert.True(cache.TryGet("new", later, out _));
        Assert.False(cache.TryGet("short-1", later, out _));
    }

    [Fact]
    public void An_expired_grant_is_never_added()
    {
        var cache = new VerifiedCookieCache(capacity: 4);
        cache.Add("old", Grant(Start), Start);
        Assert.Equal(0, cache.Count);
        Assert.False(cache.TryGet("old", Start.AddSeconds(-1), out _));
    }

    private static AccessGrant Grant(DateTimeOffset expiresAt) => new(AccessGrant.CookiePurpose, "abc", "alice", expiresAt, "n");

    private static (AccessCookies Cookies, FakeTimeProvider Time, TimeSpan Lifetime) Build()
    {
        var time = new FakeTimeProvider(Start);
        using var services = TestServices.Build(time: time);
        var options = services.GetRequiredService<IOptions<WorkspaceProxyOptions>>();
        var cookies = new AccessCookies(
            services.GetRequiredService<SignedValue>(), options, services.GetRequiredService<IOptions<PublicAddressOptions>>(), time);
        return (cookies, time, options.Value.CookieLifetime);
    }

    private static string Issue(AccessCookies cookies, string label, string owner)
    {
        var response = new DefaultHttpContext().Response;
        cookies.Issue(response, label, owner);
        var setCookie = response.Headers.SetCookie.ToString();
        return setCookie.Split(';')[0][(cookies.Name.Length + 1)..];
    }

    private static AccessGrant? Read(AccessCookies cookies, string value, string label)
    {
        var request = new DefaultHttpContext().Request;
        request.Headers.Cookie = $"{cookies.Name}={value}";
        return cookies.Read(request, label);
    }
}
