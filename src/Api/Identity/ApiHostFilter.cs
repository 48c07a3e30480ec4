using CloudDevEnv.Api.Problems;
using Microsoft.Extensions.Options;

namespace CloudDevEnv.Api.Identity;

/// <summary>Answers only the Host names the API is configured for. A page on another site that rebinds its own DNS
/// name to 127.0.0.1 reaches the API with its own name in Host, and is refused here before anything else runs.
/// The health endpoints answer any Host: probes use addresses, and they reveal nothing.</summary>
internal sealed class ApiHostFilter(RequestDelegate next, IOptions<ApiOptions> options)
{
    private readonly string[] _exact = [.. options.Value.AllowedHosts.Where(h => HasPort(h))];
    private readonly string[] _anyPort = [.. options.Value.AllowedHosts.Where(h => !HasPort(h))];

    public Task InvokeAsync(HttpContext context)
    {
        var path = context.Request.Path;
        if (IsAllowed(context.Request.Host) || path.Equals("/healthz") || path.Equals("/readyz"))
        {
            return next(context);
        }

        return ApiProblems.Problem(
            StatusCodes.Status400BadRequest, "Unknown host.", "This API does not answer requests for this host name.", "unknown-host")
            .ExecuteAsync(context);
    }

    private bool IsAllowed(HostString host)
    {
        if (!host.HasValue)
        {
            return false;
        }

        var value = host.Value;
        foreach (var allowed in _exact)
        {
            if (string.Equals(allowed, value, StringComparison.OrdinalIgnoreCase))
            {
                return true;
            }
        }

        foreach (var allowed in _anyPort)
        {
            if (string.Equals(allowed, host.Host, StringComparison.OrdinalIgnoreCase))
            {
                return true;
            }
        }

        return false;
    }

    // "[::1]:5000" and "localhost:5000" have a port; "[::1]" and "localhost" do not.
    private static bool HasPort(string host) => host.LastIndexOf(':') > host.LastIndexOf(']');
}
