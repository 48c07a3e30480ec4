using System.ComponentModel.DataAnnotations;

namespace CloudDevEnv.Api.Identity;

/// <summary>Who may sign in and how, bound from the <c>Auth</c> section and validated at start-up.</summary>
public sealed class AuthOptions
{
    public const string SectionName = "Auth";

    /// <summary>User ids with the admin role (also <c>CDE_ADMINS=alice,bob</c>).</summary>
    public List<string> Admins { get; set; } = [];

    /// <summary>How long a browser session lasts without use; each use slides it.</summary>
    [Range(typeof(TimeSpan), "00:05:00", "30.00:00:00")]
    public TimeSpan SessionLifetime { get; set; } = TimeSpan.FromHours(12);

    public DevSignInOptions DevSignIn { get; set; } = new();

    /// <summary>Sign-in with GitHub, on when <see cref="GitHubSignInOptions.ClientId"/> is set.</summary>
    public GitHubSignInOptions GitHub { get; set; } = new();

    /// <summary>OpenID Connect providers by key (the key is in their URLs: <c>/signin/oidc-&lt;key&gt;</c>).</summary>
    public Dictionary<string, OidcSignInOptions> Oidc { get; set; } = new(StringComparer.Ordinal);
}

/// <summary>A sign-in that believes whatever user name it is given: for one developer's own machine only.</summary>
public sealed class DevSignInOptions
{
    /// <summary>Off unless configured; the local-mode host turns it on (on loopback only).</summary>
    public bool Enabled { get; set; }
}

public sealed class GitHubSignInOptions
{
    public string? ClientId { get; set; }

    public string? ClientSecret { get; set; }

    public string DisplayName { get; set; } = "GitHub";

    /// <summary>GitHub Enterprise Server, or a stand-in in tests, has other endpoints.</summary>
    public string AuthorizationEndpoint { get; set; } = "https://github.com/login/oauth/authorize";

    public string TokenEndpoint { get; set; } = "https://github.com/login/oauth/access_token";

    /// <summary>Answers the signed-in user as JSON with at least <c>login</c>.</summary>
    public string UserInformationEndpoint { get; set; } = "https://api.github.com/user";

    public List<string> Scopes { get; set; } = ["read:user"];

    /// <summary>Put in front of the login to make the user id, so that users of two providers never share an id.</summary>
    public string UserPrefix { get; set; } = string.Empty;

    public bool IsEnabled => !string.IsNullOrWhiteSpace(ClientId);
}

public sealed class OidcSignInOptions
{
    /// <summary>"Continue with &lt;DisplayName&gt;".</summary>
    public string? DisplayName { get; set; }

    public string? Authority { get; set; }

    public string? ClientId { get; set; }

    public string? ClientSecret { get; set; }

    public List<string> Scopes { get; set; } = ["openid", "profile"];

    /// <summary>The claim that names the user (from the ID token or the userinfo endpoint).</summary>
    public string UserNameClaim { get; set; } = "preferred_username";

    /// <summary>Users carrying <see cref="AdminClaim"/> = <see cref="AdminClaimValue"/> (a group, a role) are admins.</summary>
    public string? AdminClaim { get; set; }

    public string? AdminClaimValue { get; set; }

    public string UserPrefix { get; set; } = string.Empty;

    /// <summary>False only for a provider on loopback (tests).</summary>
    public bool RequireHttpsMetadata { get; set; } = true;
}
