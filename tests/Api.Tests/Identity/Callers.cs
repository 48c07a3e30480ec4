using System.Net.Http.Headers;
using System.Security.Claims;
using CloudDevEnv.Contracts.Identity;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.DataProtection;

namespace CloudDevEnv.Api.Tests.Identity;

public enum Caller
{
    Anonymous,
    Owner,
    OwnerToken,
    OtherUser,
    Admin,
    RevokedToken,
    ExpiredToken,
    ForgedCookie,
}

/// <summary>Makes an HTTP client for each kind of caller of the authorization matrix, against one owner.</summary>
public static class Callers
{
    public static async Task<HttpClient> ForAsync(Caller caller, HostFixture host, HttpClient ownerSession, string owner)
    {
        switch (caller)
        {
            case Caller.Anonymous:
                return new HttpClient(new HttpClientHandler { AllowAutoRedirect = false }) { BaseAddress = host.Api };
            case Caller.Owner:
                return ownerSession;
            case Caller.OwnerToken:
                return Users.WithToken(host.Api, (await Users.CreateTokenAsync(ownerSession, "matrix")).Token);
            case Caller.OtherUser:
                return await host.SignInAsync(Users.NewName("other"));
            case Caller.Admin:
                return await host.SignInAsync(HostFixture.Admin);
            case Caller.RevokedToken:
                var (id, token) = await Users.CreateTokenAsync(ownerSession, "revoked");
                Assert.Equal(HttpStatusCode.NoContent, (await ownerSession.DeleteAsync($"/api/tokens/{id}")).StatusCode);
                return Users.WithToken(host.Api, token);
            case Caller.ExpiredToken:
                return Users.WithToken(host.Api, await ExpiredTokenAsync(host, owner));
            case Caller.ForgedCookie:
                return ForgedSession(host, owner);
            default:
                throw new ArgumentOutOfRangeException(nameof(caller));
        }
    }

    /// <summary>A token of the owner's whose expiry has passed, stored where real tokens are (no API call makes one:
    /// the shortest lifetime is a day).</summary>
    public static async Task<string> ExpiredTokenAsync(HostFixture host, string owner)
    {
        var id = ApiTokenFormat.NewId();
        var secret = ApiTokenFormat.NewSecret();
        await host.Grains.GetGrain<IApiTokenGrain>(id).IssueAsync(owner, ApiTokenFormat.Hash(secret), DateTimeOffset.UtcNow.AddMinutes(-1));
        return ApiTokenFormat.Format(id, secret);
    }

    /// <summary>A well-formed session cookie claiming to be the owner, with a CSRF token it also sends, but protected
    /// with a key of its own: what an attacker who knows the format but not the platform's keys can make.</summary>
    public static HttpClient ForgedSession(HostFixture host, string owner)
    {
        var keys = Directory.CreateTempSubdirectory("cde-forged-keys-");
        var protector = DataProtectionProvider.Create(keys, b => b.SetApplicationName("clouddevenv"))
            .CreateProtector("Microsoft.AspNetCore.Authentication.Cookies.CookieAuthenticationMiddleware", "cde-session", "v2");
        var identity = new ClaimsIdentity(
            [new Claim(ClaimTypes.Name, owner), new Claim("cde:provider", "dev"), new Claim("cde:csrf", "forged-csrf")],
            "cde-session", ClaimTypes.Name, ClaimTypes.Role);
        var cookie = new TicketDataFormat(protector).Protect(new AuthenticationTicket(new ClaimsPrincipal(identity), "cde-session"));
        keys.Delete(recursive: true);

        var client = new HttpClient(new HttpClientHandler { UseCookies = false, AllowAutoRedirect = false }) { BaseAddress = host.Api };
        client.DefaultRequestHeaders.Add("Cookie", $"cde_session={cookie}");
        client.DefaultRequestHeaders.Add("X-CSRF-Token", "forged-csrf");
        return client;
    }

    public static HttpRequestMessage Request(string method, string path, string? json) => new(new HttpMethod(method), path)
    {
        Content = json is null ? null : new StringContent(json, System.Text.Encoding.UTF8, new MediaTypeHeaderValue("application/json")),
    };
}
