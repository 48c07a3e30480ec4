using Microsoft.Extensions.Options;

namespace CloudDevEnv.Api.Identity;

/// <summary>The sign-in providers this host has: what the sign-in page offers and which sessions stay valid.</summary>
public sealed class SignInProviders(IOptions<AuthOptions> options)
{
    public sealed record Provider(string Scheme, string DisplayName);

    public bool DevSignIn { get; } = options.Value.DevSignIn.Enabled;

    /// <summary>GitHub and the OpenID Connect providers, in that order.</summary>
    public IReadOnlyList<Provider> Remote { get; } =
    [
        .. options.Value.GitHub.IsEnabled ? [new Provider(AuthSchemes.GitHub, options.Value.GitHub.DisplayName)] : Array.Empty<Provider>(),
        .. options.Value.Oidc.Select(p => new Provider(AuthSchemes.OidcPrefix + p.Key, p.Value.DisplayName ?? p.Key)),
    ];

    /// <summary>A session made by a provider that has since been switched off is no longer honoured.</summary>
    public bool IsEnabled(string? provider) =>
        provider == SignedInUser.DevProvider ? DevSignIn : Remote.Any(p => p.Scheme == provider);
}
