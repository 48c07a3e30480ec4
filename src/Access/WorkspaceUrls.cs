using CloudDevEnv.Platform;
using Microsoft.Extensions.Options;

namespace CloudDevEnv.Access;

/// <summary>Builds the public URLs of workspace hosts, and of the platform's authorize endpoint that signs their owner
/// in, from <see cref="WorkspaceProxyOptions"/>.</summary>
public sealed class WorkspaceUrls(IOptions<WorkspaceAccessOptions> options, IOptions<PublicAddressOptions> address)
{
    /// <summary>The platform's path that signs a browser in to a workspace host: <c>?workspace=&amp;port=&amp;return=</c>.</summary>
    public const string AuthorizePath = "/authorize";

    private readonly Uri _platform = new(options.Value.PlatformUrl.TrimEnd('/') + "/");

    /// <summary>Where a browser without a host's cookie goes to be signed in to it (or told that it is not theirs).</summary>
    public Uri AuthorizeUrl(string workspaceId, int? port, string returnPath)
    {
        var query = $"?workspace={workspaceId}";
        if (port is { } p)
        {
            query += $"&port={p.ToString(System.Globalization.CultureInfo.InvariantCulture)}";
        }

        return new Uri(_platform, AuthorizePath.TrimStart('/') + query + $"&return={Uri.EscapeDataString(returnPath)}");
    }

    /// <summary><c>http://&lt;id&gt;.&lt;domain&gt;:&lt;port&gt;/</c>, or the host of one workspace port when <paramref name="port"/> is set.</summary>
    public Uri GetWorkspaceUrl(string workspaceId, int? port = null)
    {
        var label = port is null ? workspaceId : $"{port}-{workspaceId}";
        return new Uri(Origin(label) + "/");
    }

    /// <summary>The browser origin of a host label, e.g. <c>http://3000-abc.localhost:5080</c>.</summary>
    public string Origin(string label) => address.Value.Origin(label);
}
