using System.Globalization;
using System.Text.RegularExpressions;
using Docker.DotNet.Models;

namespace CloudDevEnv.Runtime.Docker;

// Instances: the engine's view of a container as a RuntimeInstance (state, endpoints, exit code).
public sealed partial class DockerWorkspaceRuntime
{
    private RuntimeInstance ToInstance(ContainerInspectResponse c)
    {
        var labels = c.Config?.Labels ?? new Dictionary<string, string>();
        var state = MapState(c.State?.Status);
        Uri? gateway = null;
        if (state == InstanceState.Running && GatewayPortOf(labels) is { } gatewayPort && c.NetworkSettings?.Ports is { } ports)
        {
            foreach (var (key, bindings) in ports)
            {
                if (TryParsePort(key, out var port) && port == gatewayPort
                    && bindings?.FirstOrDefault(b => !string.IsNullOrEmpty(b.HostPort)) is { } binding)
                {
                    gateway = EndpointUri(binding.HostIP, binding.HostPort);
                }
            }
        }

        return new RuntimeInstance(
            Label(labels, RuntimeLabels.WorkspaceId),
            Label(labels, RuntimeLabels.Owner),
            c.Name?.TrimStart('/') ?? "",
            c.Config?.Image ?? c.Image ?? "",
            state,
            gateway,
            state == InstanceState.Exited ? (int?)(c.State?.ExitCode ?? 0) : null);
    }

    private RuntimeInstance ToInstance(ContainerListResponse c)
    {
        var labels = c.Labels ?? new Dictionary<string, string>();
        var state = MapState(c.State);
        Uri? gateway = null;
        if (state == InstanceState.Running && GatewayPortOf(labels) is { } gatewayPort)
        {
            foreach (var p in c.Ports ?? [])
            {
                if (p.PublicPort is { } hostPort && p.PrivatePort == gatewayPort && string.Equals(p.Type, "tcp", StringComparison.OrdinalIgnoreCase))
                {
                    gateway ??= EndpointUri(p.IP, hostPort.ToString(CultureInfo.InvariantCulture));
                }
            }
        }

        int? exitCode = null;
        if (state == InstanceState.Exited && ExitedStatus().Match(c.Status ?? "") is { Success: true } m)
        {
            exitCode = int.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture);
        }

        return new RuntimeInstance(
            Label(labels, RuntimeLabels.WorkspaceId),
            Label(labels, RuntimeLabels.Owner),
            c.Names?.FirstOrDefault()?.TrimStart('/') ?? "",
            c.Image ?? "",
            state,
            gateway,
            exitCode);
    }

    private static int? GatewayPortOf(IDictionary<string, string> labels) =>
        labels.TryGetValue(RuntimeLabels.GatewayPort, out var value) && int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var port)
            ? port
            : null;

    private static string Label(IDictionary<string, string> labels, string key) =>
        labels.TryGetValue(key, out var value) ? value : "";

    private static InstanceState MapState(string? status) => status switch
    {
        "created" => InstanceState.Created,
        "running" => InstanceState.Running,
        "exited" or "dead" => InstanceState.Exited,
        _ => InstanceState.Transitioning, // restarting, removing, paused
    };

    private static bool TryParsePort(string key, out int port)
    {
        port = 0;
        var parts = key.Split('/');
        return (parts.Length == 1 || parts[1] == "tcp") && int.TryParse(parts[0], NumberStyles.None, CultureInfo.InvariantCulture, out port);
    }

    private Uri EndpointUri(string? hostIp, string hostPort)
    {
        var host = _options.EndpointHost;
        if (string.IsNullOrWhiteSpace(host))
        {
            var ip = string.IsNullOrWhiteSpace(hostIp) ? _options.PublishAddress : hostIp;
            host = ip switch
            {
                "0.0.0.0" => "127.0.0.1",
                "::" => "[::1]",
                _ when ip.Contains(':') => $"[{ip}]",
                _ => ip,
            };
        }

        return new Uri($"http://{host}:{hostPort}/");
    }

    [GeneratedRegex(@"^Exited \((-?\d+)\)")]
    private static partial Regex ExitedStatus();
}
