using System.Security.Claims;
using System.Security.Cryptography;

namespace CloudDevEnv.Api.Identity;

/// <summary>The one shape of a signed-in principal, whichever provider or token it came from, and the one way to read it.</summary>
public static class SignedInUser
{
    public const string ProviderClaim = "cde:provider";
    public const string CsrfClaim = "cde:csrf";
    public const string IdpAdminClaim = "cde:idp-admin";
    public const string DevProvider = "dev";

    /// <summary>A session for <paramref name="user"/>, with a fresh CSRF token that <c>/api/me</c> hands to the page.</summary>
    public static ClaimsPrincipal Session(string user, string provider, bool idpAdmin = false)
    {
        var claims = new List<Claim>
        {
            new(ClaimTypes.Name, user),
            new(ProviderClaim, provider),
            new(CsrfClaim, System.Buffers.Text.Base64Url.EncodeToString(RandomNumberGenerator.GetBytes(24))),
        };
        if (idpAdmin)
        {
            claims.Add(new Claim(IdpAdminClaim, "true"));
        }

        return new ClaimsPrincipal(new ClaimsIdentity(claims, AuthSchemes.Session, ClaimTypes.Name, ClaimTypes.Role));
    }

    public static ClaimsPrincipal Token(string user) =>
        new(new ClaimsIdentity([new Claim(ClaimTypes.Name, user), new Claim(ProviderClaim, "token")], AuthSchemes.Token, ClaimTypes.Name, ClaimTypes.Role));

    /// <summary>The user id; only call behind an authorization requirement.</summary>
    public static string UserId(this ClaimsPrincipal principal) =>
        principal.Identity is { IsAuthenticated: true, Name: { Length: > 0 } name }
            ? name
            : throw new InvalidOperationException("The request is not authenticated.");

    public static bool IsAdmin(this ClaimsPrincipal principal) => principal.IsInRole(AuthSchemes.AdminRole);

    /// <summary>True when the browser's session cookie (not a bearer token) authenticated the request.</summary>
    public static bool HasSession(this ClaimsPrincipal principal) =>
        principal.Identity is { IsAuthenticated: true, AuthenticationType: AuthSchemes.Session };

    public static string? CsrfToken(this ClaimsPrincipal principal) => principal.FindFirst(CsrfClaim)?.Value;

    public static bool IsDevSignIn(this ClaimsPrincipal principal) => principal.FindFirst(ProviderClaim)?.Value == DevProvider;
}
