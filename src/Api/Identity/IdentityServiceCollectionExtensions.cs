using CloudDevEnv.Api.Problems;
using CloudDevEnv.Access.Pages;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.Cookies;
using Microsoft.AspNetCore.Authorization;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using Microsoft.Net.Http.Headers;

namespace CloudDevEnv.Api.Identity;

public static class IdentityServiceCollectionExtensions
{
    /// <summary>Every request has a user or is refused: the session cookie (GitHub, OpenID Connect or the development
    /// sign-in) or a bearer token, chosen per request; every endpoint needs a signed-in user unless it says otherwise.</summary>
    public static IServiceCollection AddApiIdentity(this IServiceCollection services, IConfiguration configuration)
    {
        var section = configuration.GetSection(AuthOptions.SectionName);
        services.AddOptions<AuthOptions>().Bind(section).ValidateDataAnnotations().ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<AuthOptions>, AuthOptionsValidator>());
        services.TryAddSingleton<SignInProviders>();
        services.AddSingleton<IClaimsTransformation, AdminRoleClaims>();

        // Handlers are registered at start-up, so the providers are read here; the options above validate them.
        var auth = section.Get<AuthOptions>() ?? new AuthOptions();
        var authentication = services
            .AddAuthentication(AuthSchemes.Default)
            .AddPolicyScheme(AuthSchemes.Default, null, o => o.ForwardDefaultSelector = context =>
                context.Request.Headers.ContainsKey(HeaderNames.Authorization) ? AuthSchemes.Token : AuthSchemes.Session)
            .AddScheme<AuthenticationSchemeOptions, ApiTokenHandler>(AuthSchemes.Token, null)
            .AddCookie(AuthSchemes.Session, o => ConfigureSession(o, auth));
        if (auth.GitHub.IsEnabled)
        {
            authentication.AddOAuth(AuthSchemes.GitHub, auth.GitHub.DisplayName, o => RemoteSignIn.ConfigureGitHub(o, auth.GitHub));
        }

        foreach (var (key, oidc) in auth.Oidc)
        {
            var scheme = AuthSchemes.OidcPrefix + key;
            authentication.AddOpenIdConnect(scheme, oidc.DisplayName ?? key, o => RemoteSignIn.ConfigureOidc(o, scheme, oidc));
        }

        services.AddAuthorizationBuilder()
            .SetFallbackPolicy(new AuthorizationPolicyBuilder().RequireAuthenticatedUser().Build())
            .AddPolicy(AuthSchemes.AdminPolicy, p => p.RequireAuthenticatedUser().RequireRole(AuthSchemes.AdminRole));
        return services;
    }

    private static void ConfigureSession(CookieAuthenticationOptions o, AuthOptions auth)
    {
        // Host-only (no Domain), so that no workspace host ever receives it; Lax, so that it comes along when a
        // workspace host sends the browser here to be signed in to it.
        o.Cookie.Name = "cde_session";
        o.Cookie.HttpOnly = true;
        o.Cookie.SameSite = Microsoft.AspNetCore.Http.SameSiteMode.Lax;
        o.Cookie.SecurePolicy = CookieSecurePolicy.SameAsRequest;
        o.Cookie.IsEssential = true;
        o.ExpireTimeSpan = auth.SessionLifetime;
        o.SlidingExpiration = true;
        o.LoginPath = "/signin";
        o.ReturnUrlParameter = "returnUrl";
        o.Events.OnRedirectToLogin = context =>
        {
            if (IsPageLoad(context.Request))
            {
                context.Response.Redirect("/signin?returnUrl=" + Uri.EscapeDataString(context.Request.PathBase + context.Request.Path + context.Request.QueryString));
                return Task.CompletedTask;
            }

            return ApiProblems.Unauthenticated(
                "Sign in first: send the session cookie of a browser sign-in, or 'Authorization: Bearer <token>' with a token from POST /api/tokens.")
                .ExecuteAsync(context.HttpContext);
        };
        o.Events.OnRedirectToAccessDenied = context => IsPageLoad(context.Request)
            ? ProxyPageWriter.WriteAsync(context.HttpContext, new ProxyPage(
                StatusCodes.Status403Forbidden, "Administrators only", "This page is for the platform's administrators.", Link: ("Go to your workspaces", "/")))
            : ApiProblems.Forbidden("This needs the admin role.").ExecuteAsync(context.HttpContext);

        // A session made by a provider the operator has since switched off (the development sign-in, say) ends.
        o.Events.OnValidatePrincipal = async context =>
        {
            var providers = context.HttpContext.RequestServices.GetRequiredService<SignInProviders>();
            if (!providers.IsEnabled(context.Principal?.FindFirst(SignedInUser.ProviderClaim)?.Value))
            {
                context.RejectPrincipal();
                await context.HttpContext.SignOutAsync(AuthSchemes.Session);
            }
        };
    }

    /// <summary>A browser navigating to a page (not a script calling the API): it is sent to sign in rather than given a 401.</summary>
    internal static bool IsPageLoad(HttpRequest request) =>
        (HttpMethods.IsGet(request.Method) || HttpMethods.IsHead(request.Method))
        && !request.Path.StartsWithSegments("/api")
        && request.Headers.Accept.ToString().Contains("text/html", StringComparison.OrdinalIgnoreCase);
}
