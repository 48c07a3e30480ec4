using System.Net;
using System.Net.Sockets;
using System.Text.RegularExpressions;

namespace CloudDevEnv.Grains.Workspaces;

public enum RepositoryUrlKind
{
    Https = 0,
    Ssh = 1,
    ScpLike = 2,
    LocalFile = 3,
}

/// <summary>A repository URL the platform agreed to clone. Parsed once, when the workspace's plan is made, and kept in it.</summary>
/// <param name="Name">The folder name under /workspaces: the last path segment without ".git".</param>
/// <param name="LocalPath">For file:// URLs, the folder on this host: its real path, under an allowed folder.</param>
[GenerateSerializer, Immutable, Alias("cde.RepositoryUrl")]
public sealed partial record RepositoryUrl(string Url, RepositoryUrlKind Kind, string Name, string? LocalPath)
{
    public const int MaxLength = 2048;

    /// <summary>Accepts https://, ssh:// and git@host:path; file:// only under <paramref name="localRoots"/>.
    /// Everything else, plain http:// included, is refused with a reason a user can act on.</summary>
    public static bool TryParse(string? text, IReadOnlyCollection<string> localRoots, out RepositoryUrl? url, out string error)
    {
        url = null;
        if (string.IsNullOrWhiteSpace(text))
        {
            error = "repoUrl is required.";
            return false;
        }

        if (text.Length > MaxLength || text.Any(char.IsControl) || text.Contains(' '))
        {
            error = $"repoUrl must be a URL of at most {MaxLength} characters without spaces or control characters.";
            return false;
        }

        var scp = ScpLike().Match(text);
        if (scp.Success)
        {
            var host = scp.Groups["host"].Value;
            if (!IsAllowedRemoteHost(host, out error))
            {
                return false;
            }

            url = new RepositoryUrl(text, RepositoryUrlKind.ScpLike, NameOf(scp.Groups["path"].Value), null);
            return true;
        }

        if (!Uri.TryCreate(text, UriKind.Absolute, out var uri))
        {
            error = "repoUrl is not a URL: use https://host/owner/repo, ssh://git@host/owner/repo or git@host:owner/repo.";
            return false;
        }

        switch (uri.Scheme)
        {
            case "https" or "ssh":
                if (uri.Scheme == "https" && !string.IsNullOrEmpty(uri.UserInfo))
                {
                    error = "repoUrl must not carry credentials: the platform would store them in plain text.";
                    return false;
                }

                if (!IsAllowedRemoteHost(uri.Host, out error))
                {
                    return false;
                }

                var name = NameOf(uri.AbsolutePath);
                if (name.Length == 0)
                {
                    error = "repoUrl has no repository path.";
                    return false;
                }

                url = new RepositoryUrl(text, uri.Scheme == "https" ? RepositoryUrlKind.Https : RepositoryUrlKind.Ssh, name, null);
                return true;

            case "file":
                return TryLocal(uri, localRoots, out url, out error);

            case "http":
                error = "Plain http:// repository URLs are not allowed: use https://.";
                return false;

            default:
                error = $"The '{uri.Scheme}' scheme is not allowed: use https://, ssh:// or git@host:path.";
                return false;
        }
    }

    private static bool TryLocal(Uri uri, IReadOnlyCollection<string> localRoots, out RepositoryUrl? url, out string error)
    {
        url = null;
        if (!string.IsNullOrEmpty(uri.Host))
        {
            error = "file:// repository URLs must name a local folder (file:///path).";
            return false;
        }

        // Checked on the real path (symlinks, "..", percent-encoding and trailing slashes resolved), which is also the path
        // the clone step mounts: what was checked is what is read.
        var requested = Uri.UnescapeDataString(uri.AbsolutePath);
        var path = RealPath.Resolve(requested);
        var roots = localRoots.Select(RealPath.Resolve).OfType<string>().Select(r => r.TrimEnd('/')).ToList();
        var root = path is null
            ? null
            : roots.FirstOrDefault(r => r.Length > 0 && (path == r || path.StartsWith(r + "/", StringComparison.Ordinal)));
        if (root is null)
        {
            error = localRoots.Count == 0
                ? "file:// repository URLs are not allowed: no local repository folder is configured (CDE_LOCAL_REPO_ROOTS)."
                : path is null
                    ? $"The local repository folder '{requested}' does not exist."
                    : $"file:// repository URLs must be under one of the allowed folders: {string.Join(", ", localRoots)} (symbolic links are followed before the check).";
            return false;
        }

        if (!Directory.Exists(path))
        {
            error = $"The local repository '{requested}' is not a folder.";
            return false;
        }

        url = new RepositoryUrl(uri.AbsoluteUri, RepositoryUrlKind.LocalFile, NameOf(path), path);
        error = string.Empty;
        return true;
    }

    /// <summary>Refuses names and literal addresses of this machine and private networks: the clone runs
    /// inside the platform's network, where such URLs would reach services the user cannot otherwise see.</summary>
    private static bool IsAllowedRemoteHost(string host, out string error)
    {
        host = host.Trim('[', ']').TrimEnd('.').ToLowerInvariant();
        if (host.Length == 0)
        {
            error = "repoUrl has no host.";
            return false;
        }

        if (host == "localhost" || host.EndsWith(".localhost", StringComparison.Ordinal))
        {
            error = "repoUrl must not point at this machine (localhost).";
            return false;
        }

        if (IPAddress.TryParse(host, out var address) && IsInternal(address))
        {
            error = $"repoUrl must not point at a loopback, private or link-local address ({host}).";
            return false;
        }

        error = string.Empty;
        return true;
    }

    private static bool IsInternal(IPAddress address)
    {
        if (address.IsIPv4MappedToIPv6)
        {
            address = address.MapToIPv4();
        }

        if (IPAddress.IsLoopback(address) || address.Equals(IPAddress.Any) || address.Equals(IPAddress.IPv6Any))
        {
            return true;
        }

        if (address.AddressFamily == AddressFamily.InterNetworkV6)
        {
            return address.IsIPv6LinkLocal || address.IsIPv6SiteLocal || address.IsIPv6UniqueLocal;
        }

        var b = address.GetAddressBytes();
        return b[0] == 10
            || (b[0] == 172 && b[1] >= 16 && b[1] <= 31)
            || (b[0] == 192 && b[1] == 168)
            || (b[0] == 169 && b[1] == 254)
            || (b[0] == 100 && b[1] >= 64 && b[1] <= 127)
            || b[0] == 0;
    }

    private static string NameOf(string path)
    {
        var last = path.TrimEnd('/').Split('/', ':').LastOrDefault() ?? string.Empty;
        if (last.EndsWith(".git", StringComparison.OrdinalIgnoreCase))
        {
            last = last[..^4];
        }

        return SafeName().Replace(last, "-").Trim('-', '.');
    }

    [GeneratedRegex(@"^(?<user>[A-Za-z0-9._-]+)@(?<host>[A-Za-z0-9.-]+):(?<path>[^\\]+)$", RegexOptions.CultureInvariant)]
    private static partial Regex ScpLike();

    [GeneratedRegex("[^A-Za-z0-9._-]+", RegexOptions.CultureInvariant)]
    private static partial Regex SafeName();
}
