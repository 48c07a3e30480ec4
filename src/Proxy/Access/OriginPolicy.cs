using CloudDevEnv.Proxy.Hosts;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Options;

namespace CloudDevEnv.Proxy.Access;

/// <summary>Refuses cross-site WebSocket hijacking: a browser sends the access cookie with a WebSocket upgrade
/// whatever page opened it, so the upgrade must come from a page of the same workspace (its IDE host or one of
/// its port hosts, same scheme and port). Non-browser clients send no Origin and pass; they carry no victim's cookie.</summary>
internal sealed class OriginPolicy(WorkspaceHostParser hosts, IOptions<PublicAddressOptions> options)
{
    public bool IsAllowed(HttpRequest request, WorkspaceAddress target)
    {
        var origin = request.Headers.Origin;
        if (origin.Count == 0)
        {
            return true;
        }

        if (origin.Count > 1 || !Uri.TryCreate(origin.ToString(), UriKind.Absolute, out var uri))
        {
            return false;
        }

        if (!string.Equals(uri.Scheme, options.Value.PublicScheme, StringComparison.OrdinalIgnoreCase))
        {
            return false;
        }

        var requestPort = request.Host.Port ?? (options.Value.PublicScheme == "https" ? 443 : 80);
        return uri.Port == requestPort
            && hosts.TryParse(uri.Host, out var from)
            && from.WorkspaceId == target.WorkspaceId;
    }
}
