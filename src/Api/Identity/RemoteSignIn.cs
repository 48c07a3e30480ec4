using System.Net.Http.Headers;
using System.Security.Claims;
using System.Text.Json;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.OAuth;
using Microsoft.AspNetCore.Authentication.OpenIdConnect;
using Microsoft.IdentityModel.Protocols.OpenIdConnect;

namespace CloudDevEnv.Api.Identity;

/// <summary>GitHub (ASP.NET Core's own OAuth handler) and OpenID Connect providers. Both end the same way: the
/// provider's principal is turned into the one session shape of <see cref="SignedInUser"/>, or the browser is sent
/// back to the sign-in page with a reason it can show.</summary>
internal static partial class RemoteSignIn
{
    public static void ConfigureGitHub(OAuthOptions o, GitHubSignInOptions github)
    {
        o.ClientId = github.ClientId!;
        o.ClientSecret = github.ClientSecret!;
        o.AuthorizationEndpoint = github.AuthorizationEndpoint;
        o.TokenEndpoint = github.TokenEndpoint;
        o.UserInformationEndpoint = github.UserInformationEndpoint;
        o.CallbackPath = "/signin/github/callback";
        o.SignInScheme = AuthSchemes.Session;
        o.UsePkce = true;
        o.Scope.Clear();
        foreach (var scope in github.Scopes)
        {
            o.Scope.Add(scope);
        }

        o.ClaimActions.MapJsonKey(ClaimTypes.Name, "login");
        o.ClaimActions.MapJsonKey(ClaimTypes.NameIdentifier, "id");
        LaxCookies(o);
        o.Events.OnCreatingTicket = async context =>
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, context.Options.UserInformationEndpoint);
            request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("application/json"));
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", context.AccessToken);
            request.Headers.UserAgent.Add(new ProductInfoHeaderValue("CloudDevEnv", "1"));
            using var response = await context.Backchannel.SendAsync(request, context.HttpContext.RequestAborted);
            response.EnsureSuccessStatusCode();
            using var user = JsonDocument.Parse(await response.Content.ReadAsStringAsync(context.HttpContext.RequestAborted));
            context.RunClaimActions(user.RootElement);
        };
        o.Events.OnTicketReceived = context => CompleteAsync(context, AuthSchemes.GitHub, github.UserPrefix, ClaimTypes.Name, adminClaim: null, adminValue: null);
        o.Events.OnRemoteFailure = context => FailAsync(context, AuthSchemes.GitHub);
    }

    public static void ConfigureOidc(OpenIdConnectOptions o, string scheme, OidcSignInOptions oidc)
    {
        o.Authority = oidc.Authority;
        o.ClientId = oidc.ClientId;
        o.ClientSecret = oidc.ClientSecret;
        o.RequireHttpsMetadata = oidc.RequireHttpsMetadata;
        o.SignInScheme = AuthSchemes.Session;

        // The authorization-code flow with PKCE; the code comes back on a GET, which a SameSite=Lax correlation
        // cookie accompanies (form_post would need SameSite=None and HTTPS).
        o.ResponseType = OpenIdConnectResponseType.Code;
        o.ResponseMode = OpenIdConnectResponseMode.Query;
        o.UsePkce = true;
        o.MapInboundClaims = false;
        o.GetClaimsFromUserInfoEndpoint = true;
        o.SaveTokens = false;
        o.CallbackPath = $"/signin/{scheme}/callback";
        o.SignedOutCallbackPath = $"/signout/{scheme}/callback";
        o.RemoteSignOutPath = $"/signout/{scheme}/remote";
        o.Scope.Clear();
        foreach (var scope in oidc.Scopes)
        {
            o.Scope.Add(scope);
        }

        o.TokenValidationParameters.NameClaimType = oidc.UserNameClaim;
        o.ClaimActions.MapUniqueJsonKey(oidc.UserNameClaim, oidc.UserNameClaim);
        if (!string.IsNullOrEmpty(oidc.AdminClaim))
        {
            o.ClaimActions.MapJsonKey(oidc.AdminClaim, oidc.AdminClaim);
        }

        LaxCookies(o);
        o.NonceCookie.SameSite = SameSiteMode.Lax;
        o.NonceCookie.SecurePolicy = CookieSecurePolicy.SameAsRequest;
        o.Events.OnTicketReceived = context => CompleteAsync(context, scheme, oidc.UserPrefix, oidc.UserNameClaim, oidc.AdminClaim, oidc.AdminClaimValue);
        o.Events.OnRemoteFailure = context => FailAsync(context, scheme);
    }

    /// <summary>The correlation cookie defaults to SameSite=None and Secure, which plain HTTP on loopback cannot carry.</summary>
    private static void LaxCookies(RemoteAuthenticationOptions o)
    {
        o.CorrelationCookie.SameSite = SameSiteMode.Lax;
        o.CorrelationCookie.SecurePolicy = CookieSecurePolicy.SameAsRequest;
    }

    private static Task CompleteAsync(TicketReceivedContext context, string provider, string prefix, string nameClaim, string? adminClaim, string? adminValue)
    {
        var logger = Logger(context.HttpContext);
        var name = context.Principal?.FindFirst(nameClaim)?.Value;
        if (string.IsNullOrWhiteSpace(name))
        {
            LogNoUserName(logger, provider, nameClaim);
            return SendBackAsync(context, SignInErrors.NoUserName);
        }

        var user = (prefix + name).ToLowerInvariant();
        if (!OwnerName.IsValid(user))
        {
            LogBadUserName(logger, provider);
            return SendBackAsync(context, SignInErrors.BadUserName);
        }

        var admin = adminClaim is not null && context.Principal!.HasClaim(adminClaim, adminValue!);
        context.Principal = SignedInUser.Session(user, provider, admin);
        LogSignedIn(logger, user, provider, admin);
        return Task.CompletedTask;
    }

    private static Task FailAsync(RemoteFailureContext context, string provider)
    {
        LogProviderFailed(Logger(context.HttpContext), provider, context.Failure);
        return SendBackAsync(context, SignInErrors.ProviderFailed);
    }

    private static Task SendBackAsync(HandleRequestContext<RemoteAuthenticationOptions> context, string error)
    {
        context.Response.Redirect(SignInErrors.PageUrl(error));
        context.HandleResponse();
        return Task.CompletedTask;
    }

    private static ILogger Logger(HttpContext context) =>
        context.RequestServices.GetRequiredService<ILoggerFactory>().CreateLogger(typeof(RemoteSignIn).FullName!);

    [LoggerMessage(Level = LogLevel.Information, Message = "Signed in {User} through {Provider} (admin by the provider's claim: {Admin})")]
    private static partial void LogSignedIn(ILogger logger, string user, string provider, bool admin);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Sign-in through {Provider} failed: the provider did not send the claim {Claim}")]
    private static partial void LogNoUserName(ILogger logger, string provider, string claim);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Sign-in through {Provider} failed: the user name is not a valid user id")]
    private static partial void LogBadUserName(ILogger logger, string provider);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Sign-in through {Provider} failed")]
    private static partial void LogProviderFailed(ILogger logger, string provider, Exception? exception);
}
