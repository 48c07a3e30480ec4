using Microsoft.Extensions.Options;

namespace CloudDevEnv.Proxy.Hosts;

/// <summary>Builds the public URLs of workspace hosts from <see cref="WorkspaceProxyOptions"/>.</summary>
public sealed class WorkspaceUrls(IOptions<WorkspaceProxyOptions> options)
{
    private readonly WorkspaceProxyOptions _options = options.Value;

    /// <summary><c>http://&lt;id&gt;.&lt;domain&gt;:&lt;port&gt;/</c>, or the host of one workspace port when <paramref name="port"/> is set.</summary>
    public Uri GetWorkspaceUrl(string workspaceId, int? port = null)
    {
        var label = port is null ? workspaceId : $"{port}-{workspaceId}";
        return new Uri(Origin(label) + "/");
    }

    /// <summary>The browser origin of a host label, e.g. <c>http://3000-abc.localhost:5080</c>.</summary>
    internal string Origin(string label) =>
        CloudDevEnv.Contracts.Workspaces.WorkspaceUrl.Origin(_options.PublicScheme, _options.Domain, _options.PublicPort, label);
}
