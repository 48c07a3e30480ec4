namespace CloudDevEnv.Api.Identity;

/// <summary>The authentication schemes and policies of the API host.</summary>
public static class AuthSchemes
{
    /// <summary>The default: picks <see cref="Token"/> when the request has an Authorization header, else <see cref="Session"/>.</summary>
    public const string Default = "cde";

    /// <summary>The browser's session cookie, whichever way the user signed in.</summary>
    public const string Session = "cde-session";

    /// <summary><c>Authorization: Bearer cde_…</c>, for scripts, CI and the CLI.</summary>
    public const string Token = "cde-token";

    public const string GitHub = "github";

    /// <summary>OpenID Connect providers are the schemes <c>oidc-&lt;key&gt;</c>.</summary>
    public const string OidcPrefix = "oidc-";

    public const string AdminPolicy = "admin";

    public const string AdminRole = "admin";
}
