using System.Security.Claims;
using CloudDevEnv.Api.Pages;
using CloudDevEnv.Access;
using Microsoft.AspNetCore.Authentication;

namespace CloudDevEnv.Api.Identity;

/// <summary>Signing in and out, and who the caller is.</summary>
public static partial class AccountEndpoints
{
    /// <summary>What the page needs to act for the user: who, in which roles, and the token its state-changing calls send
    /// in <c>X-CSRF-Token</c> (null for a bearer token, which needs none).</summary>
    public sealed record MeResponse(string User, IReadOnlyList<string> Roles, string? CsrfToken, bool DevSignIn);

    public static IEndpointRouteBuilder MapAccountEndpoints(this IEndpointRouteBuilder endpoints)
    {
        endpoints.MapGet("/signin", (HttpContext context, SignInProviders providers, string? returnUrl, string? error) =>
                SignInPage.Render(providers, ReturnPath.Sanitize(returnUrl), error, context.User.Identity?.IsAuthenticated == true ? context.User.Identity.Name : null))
            .AllowAnonymous().ExcludeFromDescription();
        endpoints.MapPost("/signin/dev", DevSignInAsync).AllowAnonymous().ExcludeFromDescription();
        endpoints.MapGet("/signin/{provider}", ChallengeAsync).AllowAnonymous().ExcludeFromDescription();
        endpoints.MapPost("/signout", async (HttpContext context) =>
        {
            await context.SignOutAsync(AuthSchemes.Session);
            return new SeeOther("/signin");
        }).ExcludeFromDescription();

        endpoints.MapGet("/api/me", (ClaimsPrincipal user) => TypedResults.Ok(new MeResponse(
                user.UserId(),
                user.IsAdmin() ? [AuthSchemes.AdminRole] : [],
                user.HasSession() ? user.CsrfToken() : null,
                user.IsDevSignIn())))
            .WithTags("Identity")
            .WithName("GetMe")
            .WithSummary("The signed-in user, their roles, and the CSRF token for state-changing calls made with the session cookie.");
        return endpoints;
    }

    private static async Task<IResult> DevSignInAsync(HttpContext context, SignInProviders providers, ILoggerFactory loggers)
    {
        if (!providers.DevSignIn)
        {
            return Results.NotFound();
        }

        var form = await context.Request.ReadFormAsync(context.RequestAborted);
        var returnUrl = ReturnPath.Sanitize(form["returnUrl"]);
        var user = form["user"].ToString().Trim().ToLowerInvariant();
        if (!OwnerName.IsValid(user))
        {
            return SignInPage.Render(providers, returnUrl, SignInErrors.BadUserName, signedInAs: null, StatusCodes.Status400BadRequest);
        }

        await context.SignInAsync(AuthSchemes.Session, SignedInUser.Session(user, SignedInUser.DevProvider));
        LogDevSignIn(loggers.CreateLogger(typeof(AccountEndpoints).FullName!), user);
        return new SeeOther(returnUrl);
    }

    private static async Task ChallengeAsync(HttpContext context, string provider, string? returnUrl, SignInProviders providers, ILoggerFactory loggers)
    {
        returnUrl = ReturnPath.Sanitize(returnUrl);
        if (!providers.Remote.Any(p => p.Scheme == provider))
        {
            await SignInPage.Render(providers, returnUrl, SignInErrors.UnknownProvider, signedInAs: null, StatusCodes.Status404NotFound).ExecuteAsync(context);
            return;
        }

        try
        {
            await context.ChallengeAsync(provider, new AuthenticationProperties { RedirectUri = returnUrl });
        }
        catch (Exception e) when (!context.Response.HasStarted && !context.RequestAborted.IsCancellationRequested)
        {
            // The provider's discovery document could not be fetched: it is down or misconfigured.
            LogProviderUnavailable(loggers.CreateLogger(typeof(AccountEndpoints).FullName!), provider, e);
            context.Response.Clear();
            await SignInPage.Render(providers, returnUrl, SignInErrors.ProviderUnavailable, signedInAs: null, StatusCodes.Status503ServiceUnavailable)
                .ExecuteAsync(context);
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Development sign-in of {User}: this host believes any user name it is given")]
    private static partial void LogDevSignIn(ILogger logger, string user);

    [LoggerMessage(Level = LogLevel.Error, Message = "Sign-in provider {Provider} could not be reached")]
    private static partial void LogProviderUnavailable(ILogger logger, string provider, Exception exception);
}
