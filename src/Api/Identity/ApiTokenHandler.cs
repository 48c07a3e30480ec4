using System.Text.Encodings.Web;
using CloudDevEnv.Api.Problems;
using CloudDevEnv.Contracts.Identity;
using Microsoft.AspNetCore.Authentication;
using Microsoft.Extensions.Options;
using Microsoft.Net.Http.Headers;

namespace CloudDevEnv.Api.Identity;

/// <summary><c>Authorization: Bearer cde_&lt;id&gt;_&lt;secret&gt;</c>. The token's grain is asked on every request (no
/// cache), so that a revoked token stops working at once on every API process.</summary>
internal sealed class ApiTokenHandler(
    IOptionsMonitor<AuthenticationSchemeOptions> options,
    ILoggerFactory logger,
    UrlEncoder encoder,
    IGrainFactory grains) : AuthenticationHandler<AuthenticationSchemeOptions>(options, logger, encoder)
{
    private const string BearerPrefix = "Bearer ";

    protected override async Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        var header = Request.Headers.Authorization.ToString();
        if (header.Length == 0)
        {
            return AuthenticateResult.NoResult();
        }

        if (!header.StartsWith(BearerPrefix, StringComparison.OrdinalIgnoreCase))
        {
            return AuthenticateResult.Fail("Send the token as 'Authorization: Bearer <token>'.");
        }

        // The messages name nothing secret and do not say which part was wrong.
        if (!ApiTokenFormat.TryParse(header[BearerPrefix.Length..].Trim(), out var id, out var secret))
        {
            return AuthenticateResult.Fail("The token is not valid.");
        }

        var user = await grains.GetGrain<IApiTokenGrain>(id).AuthenticateAsync(ApiTokenFormat.Hash(secret));
        return user is null
            ? AuthenticateResult.Fail("The token is not valid: it is unknown, revoked or expired.")
            : AuthenticateResult.Success(new AuthenticationTicket(SignedInUser.Token(user), Scheme.Name));
    }

    protected override async Task HandleChallengeAsync(AuthenticationProperties properties)
    {
        var result = await HandleAuthenticateOnceSafeAsync();
        Response.Headers[HeaderNames.WWWAuthenticate] = "Bearer";
        await ApiProblems.Unauthenticated(result.Failure?.Message ?? "Sign in first.").ExecuteAsync(Context);
    }

    protected override Task HandleForbiddenAsync(AuthenticationProperties properties) =>
        ApiProblems.Forbidden("This needs the admin role.").ExecuteAsync(Context);
}
