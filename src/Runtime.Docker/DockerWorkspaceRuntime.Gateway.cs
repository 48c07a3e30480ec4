using System.Globalization;
using Docker.DotNet.Models;
using Microsoft.Extensions.Logging;

namespace CloudDevEnv.Runtime.Docker;

// Gateway and network: the one way into a workspace container, and the bridge network of its own that keeps other
// workspaces from even reaching that way.
public sealed partial class DockerWorkspaceRuntime
{
    private const string GatewayPortVariable = "CDE_GATEWAY_PORT";
    private const string GatewayIdePortVariable = "CDE_GATEWAY_IDE_PORT";
    private const string GatewaySecretVariable = "CDE_GATEWAY_SECRET";

    /// <summary>The gateway runs on the IDE bundle's own node, from the bundle: in any image, as the container's main
    /// process, so that the workspace is up exactly while its gateway is.</summary>
    private List<string> GatewayCommand() =>
        [$"{_options.IdeBundleTarget}/node/bin/node", $"{_options.IdeBundleTarget}/gateway/gateway.mjs"];

    private static IEnumerable<string> GatewayEnvironment(InstanceGateway gateway) =>
    [
        $"{GatewayPortVariable}={gateway.Port.ToString(CultureInfo.InvariantCulture)}",
        $"{GatewayIdePortVariable}={gateway.IdePort.ToString(CultureInfo.InvariantCulture)}",
        $"{GatewaySecretVariable}={gateway.Secret}",
    ];

    private static bool HasGateway(ContainerInspectResponse container, InstanceGateway gateway)
    {
        var environment = container.Config?.Env ?? [];
        return GatewayEnvironment(gateway).All(environment.Contains)
            && container.Config?.Labels?.TryGetValue(RuntimeLabels.GatewayPort, out var port) == true
            && port == gateway.Port.ToString(CultureInfo.InvariantCulture);
    }

    public async Task<bool> ProbeIdeAsync(string workspaceId, CancellationToken cancellationToken)
    {
        ValidateId(workspaceId);
        var container = await FindAsync(workspaceId, cancellationToken);
        if (container is null || container.State?.Running != true || ToInstance(container).Gateway is not { } gateway)
        {
            return false;
        }

        var secret = (container.Config?.Env ?? [])
            .FirstOrDefault(e => e.StartsWith(GatewaySecretVariable + "=", StringComparison.Ordinal))?[(GatewaySecretVariable.Length + 1)..];
        using var request = new HttpRequestMessage(HttpMethod.Get, gateway);
        request.Headers.Add(GatewayProtocol.SecretHeader, secret);
        request.Headers.Add(GatewayProtocol.TargetHeader, GatewayProtocol.IdeTarget);
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(_options.ProbeTimeout);
        try
        {
            using var response = await _probe.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, timeout.Token);
            return (int)response.StatusCode < 500;
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            throw;
        }
        catch (Exception e) when (e is HttpRequestException or OperationCanceledException or IOException)
        {
            return false;
        }
    }

    /// <summary>The network the workspace's container joins: <see cref="DockerRuntimeOptions.Network"/> when the operator
    /// named one, else a bridge network of the workspace's own, labelled like its volumes and removed with it.</summary>
    private async Task<string> EnsureNetworkAsync(string workspaceId, IReadOnlyDictionary<string, string> labels, CancellationToken ct)
    {
        if (!string.IsNullOrWhiteSpace(_options.Network))
        {
            return _options.Network;
        }

        // Looked up first: the engine allows two networks of one name, and the grain runs one step at a time per workspace.
        var name = ContainerName(workspaceId);
        var existing = await EngineFindAsync($"Looking up the network of workspace {workspaceId}",
            token => _client.Networks.InspectNetworkAsync(name, token), ct);
        if (existing is null)
        {
            await EngineAsync($"Creating the network of workspace {workspaceId}",
                token => _client.Networks.CreateNetworkAsync(
                    new NetworksCreateParameters { Name = name, Driver = "bridge", Labels = new Dictionary<string, string>(labels) }, token),
                ct);
        }

        return name;
    }

    private async Task RemoveNetworksAsync(string workspaceId, CancellationToken ct)
    {
        var networks = await EngineAsync($"Listing the networks of workspace {workspaceId}",
            token => _client.Networks.ListNetworksAsync(new NetworksListParameters { Filters = LabelFilter(workspaceId) }, token), ct);
        foreach (var network in networks)
        {
            await RemoveIfPresentAsync($"Removing network {network.Name}", token => _client.Networks.DeleteNetworkAsync(network.ID, token), ct);
        }

        if (networks.Count > 0)
        {
            _logger.LogInformation("Workspace {WorkspaceId}: removed its network", workspaceId);
        }
    }
}
