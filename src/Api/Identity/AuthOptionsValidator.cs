using System.Text.RegularExpressions;
using Microsoft.Extensions.Options;

namespace CloudDevEnv.Api.Identity;

/// <summary>What data annotations cannot check: provider settings that belong together, and user-id prefixes that
/// would let two providers hand out the same user id.</summary>
internal sealed partial class AuthOptionsValidator : IValidateOptions<AuthOptions>
{
    public ValidateOptionsResult Validate(string? name, AuthOptions options)
    {
        var failures = new List<string>();
        foreach (var admin in options.Admins)
        {
            if (!OwnerName.IsValid(admin))
            {
                failures.Add($"Auth:Admins: '{admin}' is not a user id.");
            }
        }

        var prefixes = new List<(string Provider, string Prefix)>();
        if (options.GitHub.IsEnabled)
        {
            var github = options.GitHub;
            if (string.IsNullOrWhiteSpace(github.ClientSecret))
            {
                failures.Add("Auth:GitHub:ClientSecret is required when Auth:GitHub:ClientId is set.");
            }

            foreach (var (key, value) in new[]
            {
                ("AuthorizationEndpoint", github.AuthorizationEndpoint),
                ("TokenEndpoint", github.TokenEndpoint),
                ("UserInformationEndpoint", github.UserInformationEndpoint),
            })
            {
                if (!IsHttpUrl(value))
                {
                    failures.Add($"Auth:GitHub:{key} must be an absolute http(s) URL.");
                }
            }

            CheckPrefix("Auth:GitHub", github.UserPrefix);
            prefixes.Add(("GitHub", github.UserPrefix));
        }

        foreach (var (key, oidc) in options.Oidc)
        {
            var section = $"Auth:Oidc:{key}";
            if (!ProviderKey().IsMatch(key))
            {
                failures.Add($"{section}: the key must be lower-case letters, digits and '-' (it is part of the sign-in URL).");
            }

            if (!IsHttpUrl(oidc.Authority))
            {
                failures.Add($"{section}:Authority must be an absolute http(s) URL.");
            }

            if (string.IsNullOrWhiteSpace(oidc.ClientId))
            {
                failures.Add($"{section}:ClientId is required.");
            }

            if (string.IsNullOrWhiteSpace(oidc.UserNameClaim))
            {
                failures.Add($"{section}:UserNameClaim is required.");
            }

            if (string.IsNullOrEmpty(oidc.AdminClaim) != string.IsNullOrEmpty(oidc.AdminClaimValue))
            {
                failures.Add($"{section}: set both AdminClaim and AdminClaimValue, or neither.");
            }

            CheckPrefix(section, oidc.UserPrefix);
            prefixes.Add((key, oidc.UserPrefix));
        }

        foreach (var clash in prefixes.GroupBy(p => p.Prefix).Where(g => g.Count() > 1))
        {
            failures.Add(
                $"The sign-in providers {string.Join(" and ", clash.Select(p => p.Provider))} give out user ids with the same prefix " +
                $"('{clash.Key}'): set a different UserPrefix on all but one, so that a user of one can never be taken for a user of another.");
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);

        void CheckPrefix(string section, string prefix)
        {
            if (prefix.Length > 0 && !OwnerName.IsValid(prefix + "x"))
            {
                failures.Add($"{section}:UserPrefix may hold only letters, digits, '.', '_', '@' and '-', starting with a letter or digit.");
            }
        }
    }

    private static bool IsHttpUrl(string? value) =>
        Uri.TryCreate(value, UriKind.Absolute, out var uri) && (uri.Scheme == Uri.UriSchemeHttps || uri.Scheme == Uri.UriSchemeHttp);

    [GeneratedRegex("^[a-z0-9]([a-z0-9-]{0,30}[a-z0-9])?$", RegexOptions.CultureInvariant)]
    private static partial Regex ProviderKey();
}
