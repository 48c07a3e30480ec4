using System.Globalization;

namespace CloudDevEnv.Grains.Ports;

/// <summary>The TCP ports something listens on inside a workspace, read from its network namespace's
/// <c>/proc/net/tcp</c> and <c>/proc/net/tcp6</c> (as Codespaces and the VS Code server detect ports: no tool needs to
/// be in the image). Both loopback and wildcard listeners count: the gateway reaches either.</summary>
public static class ListeningPorts
{
    private const string ListenState = "0A";

    /// <summary>Prints the local address of each LISTEN row of both tables (a table the kernel lacks, without IPv6, is
    /// left out), with nothing but the shell's builtins: any image has <c>/bin/sh</c>, not every one has grep or awk.</summary>
    private static readonly IReadOnlyList<string> Command =
    [
        "/bin/sh", "-c",
        $"for t in /proc/net/tcp /proc/net/tcp6; do [ -r $t ] && while read -r n local remote state rest; do [ \"$state\" = {ListenState} ] && echo \"$local\"; done < $t; done; true",
    ];

    /// <summary>The ports something listens on in the workspace's instance, which must be running.</summary>
    public static async Task<IReadOnlySet<int>> ReadAsync(IWorkspaceRuntime runtime, string workspaceId, CancellationToken cancellationToken)
    {
        var lines = new Lines();
        await runtime.ExecAsync(workspaceId, new ExecRequest(Command, User: "0"), lines, cancellationToken);
        return Parse(lines.All);
    }

    /// <summary>The ports of local addresses as the tables spell them, <c>00000000:0BB8</c> for port 3000, one a line;
    /// whole table rows (<c>0: 00000000:0BB8 00000000:0000 0A …</c>) are read the same way when in LISTEN.</summary>
    public static IReadOnlySet<int> Parse(IEnumerable<string> lines)
    {
        var ports = new SortedSet<int>();
        foreach (var line in lines)
        {
            var fields = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            if (fields.Length == 0 || (fields.Length > 1 && (fields.Length < 4 || fields[3] != ListenState)))
            {
                continue;
            }

            var local = fields.Length == 1 ? fields[0] : fields[1];
            var colon = local.LastIndexOf(':');
            if (colon > 0 && int.TryParse(local.AsSpan(colon + 1), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out var port) && port is > 0 and <= 65535)
            {
                ports.Add(port);
            }
        }

        return ports;
    }

    /// <summary>Every line of the output (an exec's own tail keeps only the last few).</summary>
    private sealed class Lines : IProgress<string>
    {
        private readonly List<string> _lines = [];

        public IReadOnlyList<string> All
        {
            get
            {
                lock (_lines)
                {
                    return [.. _lines];
                }
            }
        }

        public void Report(string value)
        {
            lock (_lines)
            {
                _lines.Add(value);
            }
        }
    }
}
