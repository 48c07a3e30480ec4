using System.Buffers.Text;
using System.Security.Cryptography;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Options;

namespace CloudDevEnv.Proxy.Access;

/// <summary>The per-host access cookie: host-only (no Domain attribute, so one workspace host never sends it to
/// another), HttpOnly, SameSite=Lax, Secure under HTTPS, signed, and bound to the host label and the owner.</summary>
internal sealed class AccessCookies(SignedValue signer, IOptions<WorkspaceProxyOptions> options, IOptions<PublicAddressOptions> address, TimeProvider time)
{
    private readonly WorkspaceProxyOptions _options = options.Value;

    // Every request of a browser carries the same cookie value: its HMAC is checked once, not per request.
    private readonly VerifiedCookieCache _verified = new();

    /// <summary>How many verified cookie values are remembered (tests).</summary>
    internal int CachedCount => _verified.Count;

    /// <summary>Under HTTPS the <c>__Host-</c> prefix makes browsers refuse the cookie unless it is host-only and
    /// Secure, which stops a sibling host from tossing one in (the github.io lesson).</summary>
    public string Name => address.Value.PublicScheme == "https" ? "__Host-cde_access" : "cde_access";

    /// <summary>The owner the request's cookie vouches for on this host label, or null.</summary>
    public AccessGrant? Read(HttpRequest request, string label)
    {
        if (!request.Cookies.TryGetValue(Name, out var value))
        {
            return null;
        }

        var now = time.GetUtcNow();
        if (!_verified.TryGet(value, now, out var grant))
        {
            grant = AccessGrant.Parse(signer.Verify(value), AccessGrant.CookiePurpose);
            if (grant is null || grant.ExpiresAt <= now)
            {
                return null;
            }

            _verified.Add(value, grant, now);
        }

        // The label is checked on every read, cached or not: the cookie of one host never opens another.
        return grant.Label == label ? grant : null;
    }

    /// <summary>Sets a fresh cookie for <paramref name="label"/> on the response.</summary>
    public void Issue(HttpResponse response, string label, string owner)
    {
        var expires = time.GetUtcNow() + _options.CookieLifetime;
        var nonce = Base64Url.EncodeToString(RandomNumberGenerator.GetBytes(9));
        var value = signer.Sign(new AccessGrant(AccessGrant.CookiePurpose, label, owner, expires, nonce).Serialize());
        response.Cookies.Append(Name, value, new CookieOptions
        {
            Path = "/",
            HttpOnly = true,
            SameSite = SameSiteMode.Lax,
            Secure = address.Value.PublicScheme == "https",
            Expires = expires,
            IsEssential = true,
        });
    }

    /// <summary>True once less than half of the cookie's life is left: it is then renewed on use.</summary>
    public bool NeedsRenewal(AccessGrant grant) => grant.ExpiresAt - time.GetUtcNow() < _options.CookieLifetime / 2;
}
