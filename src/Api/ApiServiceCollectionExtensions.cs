using System.Globalization;
using System.Threading.RateLimiting;
using CloudDevEnv.Access;
using CloudDevEnv.Api.Identity;
using CloudDevEnv.Api.Pages;
using CloudDevEnv.Api.Problems;
using CloudDevEnv.Api.Workspaces;
using Microsoft.AspNetCore.RateLimiting;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Options;

namespace CloudDevEnv.Api;

public static class ApiServiceCollectionExtensions
{
    public static IServiceCollection AddWorkspaceApi(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<ApiOptions>().Bind(configuration.GetSection(ApiOptions.SectionName)).ValidateDataAnnotations().ValidateOnStart();
        services.ConfigureHttpJsonOptions(o => ApiJson.Configure(o.SerializerOptions));
        services.AddProblemDetails();
        services.AddExceptionHandler<ApiExceptionHandler>();
        services.AddOpenApi(OpenApi.ApiDocumentTransformers.Configure);
        services.AddApiIdentity(configuration);
        // Sign-in links to workspace hosts, and the pages the proxy shows too.
        services.AddWorkspaceAccessTokens(configuration);
        services.AddRateLimiter(o =>
        {
            o.RejectionStatusCode = StatusCodes.Status429TooManyRequests;
            o.AddPolicy(WorkspaceEndpoints.CreateRateLimit, context =>
            {
                var limits = context.RequestServices.GetRequiredService<IOptions<ApiOptions>>().Value;
                return RateLimitPartition.GetFixedWindowLimiter(
                    context.User.Identity?.Name ?? string.Empty,
                    _ => new FixedWindowRateLimiterOptions { PermitLimit = limits.CreateLimit, Window = limits.CreateLimitWindow, QueueLimit = 0 });
            });
            o.OnRejected = async (context, cancellationToken) =>
            {
                var retryAfter = context.Lease.TryGetMetadata(MetadataName.RetryAfter, out var wait) ? wait : TimeSpan.FromMinutes(1);
                var seconds = Math.Max(1, (int)Math.Ceiling(retryAfter.TotalSeconds));
                var limits = context.HttpContext.RequestServices.GetRequiredService<IOptions<ApiOptions>>().Value;
                var headers = context.HttpContext.Response.Headers;
                headers.RetryAfter = seconds.ToString(CultureInfo.InvariantCulture);
                // The IETF RateLimit header fields (draft-ietf-httpapi-ratelimit-headers): the policy, and none left.
                headers["RateLimit-Policy"] = string.Create(CultureInfo.InvariantCulture, $"\"launches\";q={limits.CreateLimit};w={(int)limits.CreateLimitWindow.TotalSeconds}");
                headers["RateLimit"] = string.Create(CultureInfo.InvariantCulture, $"\"launches\";r=0;t={seconds}");
                await ApiProblems.Problem(
                    StatusCodes.Status429TooManyRequests,
                    "Too many launches.",
                    $"You launched too many workspaces in a short time; try again in {seconds} s.",
                    "rate-limited").ExecuteAsync(context.HttpContext);
            };
        });
        return services;
    }

    /// <summary>The API host's pipeline: errors, Host check, then who is calling, CSRF, what they may do, rate limits,
    /// and the endpoints (OpenAPI at /openapi/v1.json, health, sign-in, identity, workspaces).</summary>
    public static WebApplication UseWorkspaceApi(this WebApplication app)
    {
        app.UseExceptionHandler();
        app.UseMiddleware<ApiHostFilter>();
        app.UseStatusCodePages();
        app.UseMiddleware<QueryTokenRefusal>();
        app.UseMiddleware<ApiVersions>();
        app.UseRouting();
        app.UseAuthentication();
        app.UseMiddleware<CsrfProtection>();
        app.UseAuthorization();
        app.UseRateLimiter();

        app.MapOpenApi().AllowAnonymous();
        Health.HealthEndpoints.MapHealthEndpoints(app);
        app.MapAccountEndpoints();
        app.MapTokenEndpoints();
        app.MapWorkspaceApi();
        app.MapAccessEndpoints();
        Prebuilds.PrebuildEndpoints.MapPrebuildEndpoints(app);
        app.MapAppPage();
        return app;
    }
}
