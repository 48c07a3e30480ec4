using System.Net;
using System.Text.RegularExpressions;
using Docker.DotNet;
using Docker.DotNet.Models;
using Microsoft.Extensions.Logging;

namespace CloudDevEnv.Runtime.Docker;

// Lifecycle: create, start, stop, delete, inspect and list workspace containers.
public sealed partial class DockerWorkspaceRuntime
{
    public async Task<RuntimeInstance> CreateAsync(InstanceSpec spec, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(spec);
        ValidateSpec(spec);
        var id = spec.WorkspaceId;

        if (await FindAsync(id, cancellationToken) is { } existing)
        {
            if (spec.Gateway is null || HasGateway(existing, spec.Gateway))
            {
                // A container never started may have been cut short between its creation and the hand-over of its
                // folders (a crash, a cancelled step): the hand-over is done again (it is idempotent) before it is
                // adopted. One that ever ran had it.
                if (existing.State?.Status == "created" && await ContainerUserAsync(spec, cancellationToken) is { } owner && !IsRoot(owner))
                {
                    _logger.LogInformation("Workspace {WorkspaceId}: container {Container} was never started; finishing its hand-over", id, existing.Name.TrimStart('/'));
                    await HandWorkspacesToUserAsync(id, existing.ID, owner, cancellationToken);
                }

                _logger.LogInformation("Workspace {WorkspaceId}: adopting container {Container}", id, existing.Name.TrimStart('/'));
                await EnsureCompanionsAsync(spec, existing.ID, Labels(id, spec.Owner), cancellationToken);
                return ToInstance(existing);
            }

            // Made before the workspace had this gateway (an older version, or another secret): its volumes stay, the
            // container is made anew, so that no container of a workspace ever answers without the lock.
            _logger.LogInformation("Workspace {WorkspaceId}: container {Container} has no gateway of this workspace; replacing it", id, existing.Name.TrimStart('/'));
            await RemoveIfPresentAsync($"Replacing the container of workspace {id}", token =>
                _client.Containers.RemoveContainerAsync(existing.ID, new ContainerRemoveParameters { Force = true }, token), cancellationToken);
        }

        var labels = Labels(id, spec.Owner);

        // Independent round trips to the engine at once: first the look-ups (the image's user, the IDE bundle), so that
        // a missing image makes nothing; then the network and the volumes.
        var userLookup = ContainerUserAsync(spec, cancellationToken);
        var ideLookup = IdeBundleMountAsync(cancellationToken);
        await Task.WhenAll(userLookup, ideLookup);
        var user = await userLookup;
        var networkMade = spec.Offline ? Task.FromResult("none") : EnsureNetworkAsync(id, labels, cancellationToken);
        await Task.WhenAll(
            networkMade,
            spec.Ephemeral ? Task.CompletedTask : EnsureVolumeAsync(VolumeName(id, WorkspacesRole), labels, WorkspacesRole, cancellationToken),
            spec.Ephemeral ? Task.CompletedTask : EnsureVolumeAsync(VolumeName(id, HomeRole), labels, HomeRole, cancellationToken));
        var network = await networkMade;

        var mounts = new List<Mount>();
        if (!spec.Ephemeral)
        {
            mounts.Add(new() { Type = "volume", Source = VolumeName(id, WorkspacesRole), Target = _options.WorkspacesPath });
            mounts.Add(new() { Type = "volume", Source = VolumeName(id, HomeRole), Target = _options.HomePath });
        }

        if (await ideLookup is { } ide)
        {
            mounts.Add(ide);
        }
        else if (spec.Gateway is not null)
        {
            throw new WorkspaceRuntimeException(
                $"Workspace {id}: the gateway runs on the IDE bundle's node, but Runtime:Docker:IdeBundleSource is \"none\".", isPermanent: true);
        }

        foreach (var m in spec.Mounts)
        {
            // A mount the spec asks for wins over ours at the same place.
            mounts.RemoveAll(x => x.Target?.TrimEnd('/') == m.Target.TrimEnd('/'));
            if (m.Kind == InstanceMountKind.Bind)
            {
                mounts.Add(new Mount { Type = "bind", Source = m.Source, Target = m.Target, ReadOnly = m.ReadOnly });
                continue;
            }

            if (m.Kind == InstanceMountKind.WorkspaceVolume)
            {
                // Labelled with the workspace it belongs to (not this instance), so that deleting that workspace removes it.
                var folderVolume = VolumeName(m.Source, WorkspacesRole);
                await EnsureVolumeAsync(folderVolume, Labels(m.Source, spec.Owner), WorkspacesRole, cancellationToken);
                mounts.Add(new Mount { Type = "volume", Source = folderVolume, Target = m.Target, ReadOnly = m.ReadOnly });
                continue;
            }

            // The workspace's own volume (e.g. from devcontainer.json "mounts"): labelled like the others, so that
            // DeleteAsync finds and removes it with the workspace, and named per workspace, so that none is shared.
            var volume = VolumeName(id, "mount-" + m.Source);
            await EnsureVolumeAsync(volume, labels, MountRole, cancellationToken);
            mounts.Add(new Mount { Type = "volume", Source = volume, Target = m.Target, ReadOnly = m.ReadOnly });
        }

        // Only the gateway is published (on the publish address, a loopback one unless allowed otherwise): everything
        // else of the workspace is reached through it, with its secret.
        List<string> portKeys = spec.Gateway is { } gateway ? [$"{gateway.Port}/tcp"] : [];
        var environment = spec.Environment.Select(kv => $"{kv.Key}={kv.Value}").ToList();
        var containerLabels = new Dictionary<string, string>(labels);
        if (spec.Gateway is { } g)
        {
            environment.AddRange(GatewayEnvironment(g));
            containerLabels[RuntimeLabels.GatewayPort] = g.Port.ToString(System.Globalization.CultureInfo.InvariantCulture);
        }

        var parameters = new CreateContainerParameters
        {
            Name = ContainerName(id),
            Image = spec.Image,
            Hostname = id,
            User = string.IsNullOrWhiteSpace(spec.User) ? null! : spec.User,
            Env = environment,
            Labels = containerLabels,
            ExposedPorts = portKeys.ToDictionary(k => k, _ => new EmptyStruct()),
            StopTimeout = _options.DefaultStopGrace,
            HostConfig = new HostConfig
            {
                Init = true,
                Privileged = false,
                SecurityOpt = ["no-new-privileges", .. spec.SecurityOptions ?? []],
                CapDrop = ["ALL"],
                CapAdd = [.. _capabilities.Union((spec.CapAdd ?? []).Select(c => "CAP_" + c.ToUpperInvariant()))],
                ShmSize = spec.ShmSizeBytes ?? 0,
                PortBindings = portKeys.ToDictionary(
                    k => k,
                    _ => (IList<PortBinding>)[new PortBinding { HostIP = _options.PublishAddress, HostPort = "" }]),
                Mounts = mounts,
                NanoCPUs = spec.Resources.Cpus > 0 ? (long)Math.Round(spec.Resources.Cpus * 1_000_000_000d) : 0,
                Memory = Math.Max(0, spec.Resources.MemoryBytes),
                PidsLimit = _options.PidsLimit > 0 ? _options.PidsLimit : null,
                RestartPolicy = new RestartPolicy { Name = RestartPolicyKind.No },
                NetworkMode = network,
                // The companions share this container's network namespace: their service names are its loopback.
                ExtraHosts = [.. (spec.HostAliases ?? []).Select(alias => $"{alias}:127.0.0.1")],
            },
        };
        if (spec.Command is { Count: > 0 } command)
        {
            parameters.Cmd = [.. command];
        }
        else
        {
            // The gateway keeps a reachable workspace up; an instance nobody reaches just sleeps. Either way the
            // container's own entrypoint is overridden, as devcontainers' overrideCommand does.
            parameters.Entrypoint = spec.Gateway is null ? [.. _keepAlive] : GatewayCommand();
            parameters.Cmd = [];
        }

        string containerId;
        try
        {
            containerId = await EngineAsync($"Creating the container of workspace {id}", async token =>
            {
                var created = await _client.Containers.CreateContainerAsync(parameters, token);
                foreach (var warning in created.Warnings ?? [])
                {
                    _logger.LogInformation("Workspace {WorkspaceId}: the engine notes: {Warning}", id, warning);
                }

                return created.ID;
            }, cancellationToken);
        }
        catch (WorkspaceRuntimeException e) when (e.InnerException is DockerApiException { StatusCode: HttpStatusCode.Conflict })
        {
            // Created concurrently by another call: adopt it (its name is taken a moment before it can be inspected).
            for (var attempt = 0; attempt < 40; attempt++)
            {
                if (await FindAsync(id, cancellationToken) is { } concurrent)
                {
                    return ToInstance(concurrent);
                }

                await Task.Delay(50, cancellationToken);
            }

            throw new WorkspaceRuntimeException(e.Message, isPermanent: false, e);
        }

        if (!IsRoot(user))
        {
            await HandWorkspacesToUserAsync(id, containerId, user!, cancellationToken);
        }

        await EnsureCompanionsAsync(spec, containerId, labels, cancellationToken);
        _logger.LogInformation("Workspace {WorkspaceId}: created container {Container} from {Image}", id, ContainerName(id), spec.Image);
        var inspected = await InspectByIdAsync(containerId, cancellationToken)
            ?? throw new WorkspaceRuntimeException($"The container of workspace {id} vanished right after it was created.", isPermanent: false);
        return ToInstance(inspected);
    }

    /// <summary>The user the container runs as: the spec's, else the image's; the image must be present.</summary>
    private async Task<string?> ContainerUserAsync(InstanceSpec spec, CancellationToken cancellationToken)
    {
        var image = await TryInspectImageAsync(spec.Image, cancellationToken)
            ?? throw new WorkspaceRuntimeException(
                $"Creating the container of workspace {spec.WorkspaceId} failed: image {spec.Image} is not present; prepare it first.", isPermanent: true);
        return string.IsNullOrWhiteSpace(spec.User) ? image.Config?.User : spec.User;
    }

    public async Task StartAsync(string workspaceId, CancellationToken cancellationToken)
    {
        var container = await RequireAsync(workspaceId, cancellationToken);
        if (container.State?.Running == true && container.State.Paused != true)
        {
            await StartCompanionsAsync(workspaceId, containerRestarted: false, cancellationToken);
            return;
        }

        await EngineAsync($"Starting the container of workspace {workspaceId}", async token =>
        {
            if (container.State?.Paused == true)
            {
                await _client.Containers.UnpauseContainerAsync(container.ID, token);
                return true;
            }

            return await _client.Containers.StartContainerAsync(container.ID, new ContainerStartParameters(), token);
        }, cancellationToken);
        await StartCompanionsAsync(workspaceId, containerRestarted: true, cancellationToken);
    }

    public async Task StopAsync(string workspaceId, TimeSpan grace, CancellationToken cancellationToken)
    {
        ValidateId(workspaceId);
        var container = await FindAsync(workspaceId, cancellationToken);
        var effective = grace < TimeSpan.Zero ? _options.DefaultStopGrace : grace;
        var seconds = (uint)Math.Ceiling(effective.TotalSeconds);
        await StopCompanionsAsync(workspaceId, seconds, cancellationToken);
        if (container?.State is not { } state || (!state.Running && !state.Restarting))
        {
            return;
        }

        await EngineAsync($"Stopping the container of workspace {workspaceId}", async token =>
        {
            try
            {
                return await _client.Containers.StopContainerAsync(container.ID, new ContainerStopParameters { WaitBeforeKillSeconds = seconds }, token);
            }
            catch (DockerApiException e) when (e.StatusCode == HttpStatusCode.NotFound)
            {
                return false;
            }
        }, cancellationToken, effective + _options.RequestTimeout);
        _logger.LogInformation("Workspace {WorkspaceId}: stopped container {Container}", workspaceId, container.Name.TrimStart('/'));
    }

    public async Task DeleteAsync(string workspaceId, CancellationToken cancellationToken)
    {
        await DeleteContainersAndVolumesAsync(workspaceId, cancellationToken);
        await RemoveNetworksAsync(workspaceId, cancellationToken);
    }

    private async Task DeleteContainersAndVolumesAsync(string workspaceId, CancellationToken cancellationToken)
    {
        ValidateId(workspaceId);
        _execTargets.TryRemove(workspaceId, out _);
        var action = $"Deleting workspace {workspaceId}";
        var containers = await ListLabelledAsync(workspaceId, action, cancellationToken);
        var ids = containers.Select(c => c.ID).ToList();
        if (await FindByNameAsync(workspaceId, cancellationToken) is { } named && !ids.Contains(named.ID))
        {
            ids.Add(named.ID);
        }

        // The companions first: they live in the workspace container's network namespace.
        ids.InsertRange(0, (await ListCompanionsAsync(workspaceId, cancellationToken)).Select(c => c.ID));

        foreach (var containerId in ids)
        {
            await RemoveIfPresentAsync(action, token =>
                _client.Containers.RemoveContainerAsync(containerId, new ContainerRemoveParameters { Force = true, RemoveVolumes = true }, token), cancellationToken);
        }

        var volumes = await EngineAsync(action, token => _client.Volumes.ListAsync(new VolumesListParameters { Filters = LabelFilter(workspaceId) }, token), cancellationToken);
        foreach (var volume in volumes.Volumes ?? [])
        {
            await RemoveIfPresentAsync($"{action}: removing volume {volume.Name}", token =>
                _client.Volumes.RemoveAsync(volume.Name, force: false, token), cancellationToken);
        }

        if (ids.Count > 0 || volumes.Volumes is { Count: > 0 })
        {
            _logger.LogInformation("Workspace {WorkspaceId}: removed {Containers} container(s) and {Volumes} volume(s)",
                workspaceId, ids.Count, volumes.Volumes?.Count ?? 0);
        }
    }

    private Task RemoveIfPresentAsync(string action, Func<CancellationToken, Task> remove, CancellationToken ct) =>
        EngineAsync(action, async token =>
        {
            try
            {
                await remove(token);
            }
            catch (DockerApiException e) when (e.StatusCode == HttpStatusCode.NotFound)
            {
                // already gone
            }

            return true;
        }, ct);

    public async Task<RuntimeInstance?> InspectAsync(string workspaceId, CancellationToken cancellationToken)
    {
        ValidateId(workspaceId);
        var container = await FindAsync(workspaceId, cancellationToken);
        return container is null ? null : ToInstance(container);
    }

    public async Task<IReadOnlyList<RuntimeInstance>> ListAsync(CancellationToken cancellationToken)
    {
        var containers = await EngineAsync("Listing workspace containers", token => _client.Containers.ListContainersAsync(new ContainersListParameters
        {
            All = true,
            Filters = new Dictionary<string, IDictionary<string, bool>>
            {
                ["label"] = string.IsNullOrEmpty(_options.Installation)
                    ? new Dictionary<string, bool> { [$"{RuntimeLabels.Managed}=true"] = true }
                    : new Dictionary<string, bool>
                    {
                        [$"{RuntimeLabels.Managed}=true"] = true,
                        [$"{RuntimeLabels.Installation}={_options.Installation}"] = true,
                    },
            },
        }, token), cancellationToken);
        var instances = containers
            .Where(c => c.Labels?.ContainsKey(RuntimeLabels.WorkspaceId) == true)
            .Select(ToInstance)
            .ToList();

        // Companions whose workspace container is gone (a crash mid-delete) stand for their workspace, so that the
        // reconciliation that removes unclaimed workspaces removes them too.
        foreach (var orphan in containers
            .Where(c => LabelOrNull(c.Labels, RuntimeLabels.CompanionOf) is { } of && instances.All(i => i.WorkspaceId != of))
            .GroupBy(c => c.Labels![RuntimeLabels.CompanionOf]))
        {
            var first = orphan.First();
            instances.Add(new RuntimeInstance(orphan.Key, LabelOrNull(first.Labels, RuntimeLabels.Owner) ?? "", first.Names?.FirstOrDefault()?.TrimStart('/') ?? "", first.Image ?? "", InstanceState.Exited, null, null));
        }

        return instances;
    }

    private void ValidateSpec(InstanceSpec spec)
    {
        ValidateId(spec.WorkspaceId);
        ValidateCompanions(spec);
        if (string.IsNullOrWhiteSpace(spec.Image))
        {
            throw new WorkspaceRuntimeException($"Workspace {spec.WorkspaceId}: no image.", isPermanent: true);
        }

        if (spec.Gateway is { } gateway)
        {
            if (gateway.Port is < 1 or > 65535 || gateway.IdePort is < 1 or > 65535 || gateway.Port == gateway.IdePort)
            {
                throw new WorkspaceRuntimeException(
                    $"Workspace {spec.WorkspaceId}: the gateway needs two different TCP ports, not {gateway.Port} and {gateway.IdePort}.", isPermanent: true);
            }

            if (gateway.Secret.Length < InstanceGateway.MinSecretLength)
            {
                throw new WorkspaceRuntimeException(
                    $"Workspace {spec.WorkspaceId}: the gateway's secret must hold at least {InstanceGateway.MinSecretLength} characters.", isPermanent: true);
            }

            if (spec.Command is not null)
            {
                throw new WorkspaceRuntimeException($"Workspace {spec.WorkspaceId}: an instance with a gateway runs no command of its own.", isPermanent: true);
            }
        }

        if (spec.Resources.Cpus < 0 || double.IsNaN(spec.Resources.Cpus) || spec.Resources.MemoryBytes < 0)
        {
            throw new WorkspaceRuntimeException($"Workspace {spec.WorkspaceId}: negative resource limits.", isPermanent: true);
        }

        if (spec.Resources.MemoryBytes is > 0 and < 6 * 1024 * 1024)
        {
            throw new WorkspaceRuntimeException($"Workspace {spec.WorkspaceId}: a memory limit below 6 MiB cannot run a container.", isPermanent: true);
        }

        foreach (var mount in spec.Mounts)
        {
            if (string.IsNullOrWhiteSpace(mount.Target) || !mount.Target.StartsWith('/'))
            {
                throw new WorkspaceRuntimeException($"Workspace {spec.WorkspaceId}: mount target '{mount.Target}' is not an absolute path.", isPermanent: true);
            }

            if (mount.Kind == InstanceMountKind.Bind && (string.IsNullOrWhiteSpace(mount.Source) || !mount.Source.StartsWith('/')))
            {
                throw new WorkspaceRuntimeException($"Workspace {spec.WorkspaceId}: bind mount source '{mount.Source}' is not an absolute host path.", isPermanent: true);
            }

            if (mount.Kind == InstanceMountKind.Volume && (mount.Source is not { Length: > 0 and <= 64 } || !VolumeSourcePattern().IsMatch(mount.Source)))
            {
                throw new WorkspaceRuntimeException(
                    $"Workspace {spec.WorkspaceId}: volume name '{mount.Source}' is not 1 to 64 letters, digits, '_', '.' or '-'.", isPermanent: true);
            }

            if (mount.Kind == InstanceMountKind.WorkspaceVolume)
            {
                ValidateId(mount.Source);
            }
        }
    }

    [GeneratedRegex("^[a-zA-Z0-9][a-zA-Z0-9_.-]*$")]
    private static partial Regex VolumeSourcePattern();
}
