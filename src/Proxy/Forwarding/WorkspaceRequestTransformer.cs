using System.Globalization;
using System.Net.Http.Headers;
using CloudDevEnv.Proxy.Access;
using CloudDevEnv.Proxy.Hosts;
using CloudDevEnv.Runtime;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Primitives;
using Yarp.ReverseProxy.Forwarder;

namespace CloudDevEnv.Proxy.Forwarding;

/// <summary>Copies the request as YARP does, then: sets X-Forwarded-For/-Proto/-Host from what this proxy saw,
/// dropping any the client sent (a client must not choose them); passes Host per
/// <see cref="WorkspaceProxyOptions.PreserveHost"/>; strips the proxy's own access cookie, which belongs to
/// the proxy and not to the workspace's software; and tells the workspace gateway the secret and the target (the IDE
/// or a port), replacing whatever gateway headers a client sent. A gateway's "nothing listens there" becomes the
/// proxy's own page.</summary>
/// <remarks>code-server (≥ 4.10.1) accepts a WebSocket only when its Origin matches X-Forwarded-Host (or Host):
/// the browser's host goes into X-Forwarded-Host unchanged, port included, so the two match.</remarks>
internal sealed class WorkspaceRequestTransformer(
    AccessCookies cookies, ProxyPages pages, IOptions<WorkspaceProxyOptions> options, IOptions<PublicAddressOptions> address) : HttpTransformer
{
    private static readonly object TargetKey = new();

    private readonly bool _preserveHost = options.Value.PreserveHost;
    private readonly string _scheme = address.Value.PublicScheme;

    private sealed record GatewayTarget(WorkspaceAddress Address, string Secret);

    /// <summary>Where the request goes, for <see cref="TransformRequestAsync"/> of this request.</summary>
    public static void SetTarget(HttpContext context, WorkspaceAddress address, string secret) =>
        context.Items[TargetKey] = new GatewayTarget(address, secret);

    public override async ValueTask TransformRequestAsync(
        HttpContext httpContext, HttpRequestMessage proxyRequest, string destinationPrefix, CancellationToken cancellationToken)
    {
        await base.TransformRequestAsync(httpContext, proxyRequest, destinationPrefix, cancellationToken);

        var headers = proxyRequest.Headers;
        headers.Remove("Forwarded");
        headers.Remove("X-Forwarded-For");
        headers.Remove("X-Forwarded-Proto");
        headers.Remove("X-Forwarded-Host");
        headers.Remove("X-Forwarded-Prefix");
        headers.Remove("X-Forwarded-Port");

        var request = httpContext.Request;
        if (httpContext.Connection.RemoteIpAddress is { } remote)
        {
            headers.TryAddWithoutValidation("X-Forwarded-For", remote.ToString());
        }

        headers.TryAddWithoutValidation("X-Forwarded-Proto", _scheme);
        headers.TryAddWithoutValidation("X-Forwarded-Host", request.Host.Value);

        // null: HttpClient writes the destination's authority.
        headers.Host = _preserveHost ? request.Host.Value : null;

        StripAccessCookie(request, headers);

        headers.Remove(GatewayProtocol.SecretHeader);
        headers.Remove(GatewayProtocol.TargetHeader);
        var target = (GatewayTarget)httpContext.Items[TargetKey]!;
        headers.TryAddWithoutValidation(GatewayProtocol.SecretHeader, target.Secret);
        headers.TryAddWithoutValidation(
            GatewayProtocol.TargetHeader,
            target.Address.Port is { } port ? port.ToString(CultureInfo.InvariantCulture) : GatewayProtocol.IdeTarget);
    }

    public override async ValueTask<bool> TransformResponseAsync(HttpContext httpContext, HttpResponseMessage? proxyResponse, CancellationToken cancellationToken)
    {
        if (proxyResponse is not null
            && proxyResponse.Headers.TryGetValues(GatewayProtocol.StatusHeader, out var status)
            && status.Contains(GatewayProtocol.NoListener))
        {
            var address = ((GatewayTarget)httpContext.Items[TargetKey]!).Address;
            await ProxyPageWriter.WriteAsync(httpContext, pages.UpstreamDown(address.WorkspaceId, address.Port));
            return false;
        }

        return await base.TransformResponseAsync(httpContext, proxyResponse, cancellationToken);
    }

    private void StripAccessCookie(HttpRequest request, HttpRequestHeaders headers)
    {
        var name = cookies.Name;
        var values = request.Headers.Cookie;
        if (!ContainsName(values, name))
        {
            return;
        }

        headers.Remove("Cookie");
        var kept = new List<string>();
        foreach (var header in values)
        {
            foreach (var part in (header ?? string.Empty).Split(';'))
            {
                var pair = part.Trim();
                if (pair.Length == 0)
                {
                    continue;
                }

                var eq = pair.IndexOf('=');
                var cookieName = eq < 0 ? pair : pair[..eq].TrimEnd();
                if (!string.Equals(cookieName, name, StringComparison.Ordinal))
                {
                    kept.Add(pair);
                }
            }
        }

        if (kept.Count > 0)
        {
            headers.TryAddWithoutValidation("Cookie", string.Join("; ", kept));
        }
    }

    private static bool ContainsName(StringValues values, string name)
    {
        foreach (var value in values)
        {
            if (value is not null && value.Contains(name, StringComparison.Ordinal))
            {
                return true;
            }
        }

        return false;
    }
}
