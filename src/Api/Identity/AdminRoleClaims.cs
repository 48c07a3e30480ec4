using System.Security.Claims;
using Microsoft.AspNetCore.Authentication;
using Microsoft.Extensions.Options;

namespace CloudDevEnv.Api.Identity;

/// <summary>Adds the admin role on every request from the configuration as it is now, so that removing a name from
/// <c>Auth:Admins</c> takes effect on the next restart, not when the user's session or token ends.</summary>
internal sealed class AdminRoleClaims(IOptions<AuthOptions> options) : IClaimsTransformation
{
    private readonly HashSet<string> _admins = new(options.Value.Admins.Select(a => a.ToLowerInvariant()), StringComparer.Ordinal);

    public Task<ClaimsPrincipal> TransformAsync(ClaimsPrincipal principal)
    {
        if (principal.Identity is not ClaimsIdentity { IsAuthenticated: true } identity || principal.IsInRole(AuthSchemes.AdminRole))
        {
            return Task.FromResult(principal);
        }

        var admin = _admins.Contains(identity.Name ?? string.Empty) || principal.HasClaim(SignedInUser.IdpAdminClaim, "true");
        if (!admin)
        {
            return Task.FromResult(principal);
        }

        var copy = identity.Clone();
        copy.AddClaim(new Claim(ClaimTypes.Role, AuthSchemes.AdminRole));
        return Task.FromResult(new ClaimsPrincipal(copy));
    }
}
