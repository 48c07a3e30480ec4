using CloudDevEnv.Contracts.Workspaces;
using Microsoft.Extensions.Options;

namespace CloudDevEnv.Proxy.Hosts;

/// <summary>Reads <c>&lt;id&gt;.&lt;domain&gt;</c> and <c>&lt;port&gt;-&lt;id&gt;.&lt;domain&gt;</c>. Only the Host
/// header is read, never X-Forwarded-Host: a client must not be able to pick another workspace.</summary>
internal sealed class WorkspaceHostParser(IOptions<PublicAddressOptions> options)
{
    private readonly string _suffix = "." + options.Value.Domain;

    /// <summary>False for a host outside the domain, with more than one label in front of it, or with a
    /// label that is neither a workspace id nor <c>port-id</c>.</summary>
    /// <remarks>A label that starts with digits and '-' is read as <c>port-id</c>: ids made by
    /// <see cref="WorkspaceId.NewId"/> start with a word, so none is taken for a port.</remarks>
    public bool TryParse(string? host, out WorkspaceAddress address)
    {
        address = default;
        if (string.IsNullOrEmpty(host) || host.Length <= _suffix.Length
            || !host.EndsWith(_suffix, StringComparison.OrdinalIgnoreCase))
        {
            return false;
        }

        var label = host[..^_suffix.Length];
        if (label.Contains('.'))
        {
            return false;
        }

        // Host names are case-insensitive; ids are lower case.
        label = label.ToLowerInvariant();
        var dash = label.IndexOf('-');
        if (dash > 0 && IsAllDigits(label.AsSpan(0, dash)))
        {
            if (dash > 5 || !int.TryParse(label.AsSpan(0, dash), out var port) || port is < 1 or > 65535
                || label[0] == '0')
            {
                return false;
            }

            var id = label[(dash + 1)..];
            if (!WorkspaceId.IsValid(id))
            {
                return false;
            }

            address = new WorkspaceAddress(id, port, label);
            return true;
        }

        if (!WorkspaceId.IsValid(label))
        {
            return false;
        }

        address = new WorkspaceAddress(label, null, label);
        return true;
    }

    private static bool IsAllDigits(ReadOnlySpan<char> value)
    {
        foreach (var c in value)
        {
            if (c is < '0' or > '9')
            {
                return false;
            }
        }

        return true;
    }
}
