using System.Text.RegularExpressions;
using Docker.DotNet.Models;

namespace CloudDevEnv.Runtime.Docker;

// Lookup: how a workspace's container and volumes are named and labelled, and how its container is found.
public sealed partial class DockerWorkspaceRuntime
{
    internal string ContainerName(string workspaceId) => _options.NamePrefix + workspaceId;

    internal string VolumeName(string workspaceId, string role) => $"{_options.NamePrefix}{workspaceId}-{role}";

    private Dictionary<string, string> Labels(string workspaceId, string owner)
    {
        var labels = new Dictionary<string, string>
        {
            [RuntimeLabels.Managed] = "true",
            [RuntimeLabels.WorkspaceId] = workspaceId,
            [RuntimeLabels.Owner] = owner,
        };
        if (!string.IsNullOrEmpty(_options.Installation))
        {
            labels[RuntimeLabels.Installation] = _options.Installation;
        }

        return labels;
    }

    private static Dictionary<string, IDictionary<string, bool>> LabelFilter(string workspaceId) => new()
    {
        ["label"] = new Dictionary<string, bool>
        {
            [$"{RuntimeLabels.Managed}=true"] = true,
            [$"{RuntimeLabels.WorkspaceId}={workspaceId}"] = true,
        },
    };

    private static void ValidateId(string workspaceId)
    {
        if (string.IsNullOrEmpty(workspaceId) || !WorkspaceIdPattern().IsMatch(workspaceId))
        {
            throw new WorkspaceRuntimeException(
                $"'{workspaceId}' is not a workspace id (a DNS label: lower-case letters, digits and '-', at most 63 characters).", isPermanent: true);
        }
    }

    /// <summary>The workspace's container: by its name (when it carries our labels), else by the workspace-id label.</summary>
    private async Task<ContainerInspectResponse?> FindAsync(string workspaceId, CancellationToken ct)
    {
        if (await FindByNameAsync(workspaceId, ct) is { } named)
        {
            return named;
        }

        var labelled = await ListLabelledAsync(workspaceId, $"Looking up workspace {workspaceId}", ct);
        foreach (var candidate in labelled.OrderByDescending(c => c.Created))
        {
            if (await InspectByIdAsync(candidate.ID, ct) is { } found)
            {
                return found;
            }
        }

        return null;
    }

    /// <summary>Every container, running or not, that carries the workspace's labels.</summary>
    private Task<IList<ContainerListResponse>> ListLabelledAsync(string workspaceId, string action, CancellationToken ct) =>
        EngineAsync(action, token => _client.Containers.ListContainersAsync(new ContainersListParameters
        {
            All = true,
            Filters = LabelFilter(workspaceId),
        }, token), ct);

    private async Task<ContainerInspectResponse?> FindByNameAsync(string workspaceId, CancellationToken ct)
    {
        var name = ContainerName(workspaceId);
        var container = await InspectByIdAsync(name, ct);
        if (container is null)
        {
            return null;
        }

        if (container.Config?.Labels is { } labels && labels.TryGetValue(RuntimeLabels.WorkspaceId, out var owner) && owner == workspaceId)
        {
            return container;
        }

        throw new WorkspaceRuntimeException(
            $"A container named {name} exists but CloudDevEnv does not manage it (no {RuntimeLabels.WorkspaceId}={workspaceId} label); remove or rename it.",
            isPermanent: true);
    }

    private async Task<ContainerInspectResponse> RequireAsync(string workspaceId, CancellationToken ct)
    {
        ValidateId(workspaceId);
        return await FindAsync(workspaceId, ct)
            ?? throw new WorkspaceRuntimeException($"Workspace {workspaceId} has no container; create it first.", isPermanent: true);
    }

    private Task<ContainerInspectResponse?> InspectByIdAsync(string idOrName, CancellationToken ct) =>
        EngineFindAsync($"Inspecting container {idOrName}", token => _client.Containers.InspectContainerAsync(idOrName, token), ct);

    [GeneratedRegex("^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$")]
    private static partial Regex WorkspaceIdPattern();
}
