using System.Globalization;
using System.Net;
using System.Text.RegularExpressions;
using Docker.DotNet;
using Docker.DotNet.Models;
using Microsoft.Extensions.Logging;

namespace CloudDevEnv.Runtime.Docker;

// Companions: the other services of a compose configuration, each a container in the workspace container's network
// namespace (joined as a pod's containers are), labelled as the workspace's companion and never as the workspace.
public sealed partial class DockerWorkspaceRuntime
{
    private const string CompanionRole = "companion";

    internal string CompanionName(string workspaceId, string service) => $"{_options.NamePrefix}{workspaceId}--{service}";

    /// <summary>Creates the companions that are missing, and those made for another container of the workspace
    /// (whose network namespace is gone) anew; none is started here.</summary>
    private async Task EnsureCompanionsAsync(InstanceSpec spec, string containerId, IReadOnlyDictionary<string, string> labels, CancellationToken ct)
    {
        var id = spec.WorkspaceId;
        var wanted = spec.Companions ?? [];
        var existing = await ListCompanionsAsync(id, ct);
        foreach (var companion in existing)
        {
            var name = LabelOrNull(companion.Config?.Labels, RuntimeLabels.Companion);
            if (!wanted.Any(w => w.Name == name) || companion.HostConfig?.NetworkMode != $"container:{containerId}")
            {
                await RemoveIfPresentAsync($"Replacing companion {name} of workspace {id}", token =>
                    _client.Containers.RemoveContainerAsync(companion.ID, new ContainerRemoveParameters { Force = true }, token), ct);
            }
        }

        foreach (var companion in wanted)
        {
            if (existing.Any(c => LabelOrNull(c.Config?.Labels, RuntimeLabels.Companion) == companion.Name && c.HostConfig?.NetworkMode == $"container:{containerId}"))
            {
                continue;
            }

            await CreateCompanionAsync(spec, companion, containerId, labels, ct);
        }
    }

    private async Task CreateCompanionAsync(InstanceSpec spec, CompanionSpec companion, string containerId, IReadOnlyDictionary<string, string> labels, CancellationToken ct)
    {
        var id = spec.WorkspaceId;
        var mounts = new List<Mount>();
        foreach (var m in companion.Mounts)
        {
            if (m.Kind == InstanceMountKind.Tmpfs)
            {
                mounts.Add(new Mount { Type = "tmpfs", Target = m.Target });
                continue;
            }

            // The same name as the workspace's own mount of it: a volume two services name is one volume.
            var volume = VolumeName(id, "mount-" + m.Source);
            await EnsureVolumeAsync(volume, labels, MountRole, ct);
            mounts.Add(new Mount { Type = "volume", Source = volume, Target = m.Target, ReadOnly = m.ReadOnly });
        }

        var companionLabels = new Dictionary<string, string>(labels.Where(l => l.Key != RuntimeLabels.WorkspaceId).ToDictionary(l => l.Key, l => l.Value))
        {
            [RuntimeLabels.CompanionOf] = id,
            [RuntimeLabels.Companion] = companion.Name,
            [CompanionAfterLabel] = string.Join(',', companion.After ?? []),
        };
        var parameters = new CreateContainerParameters
        {
            Name = CompanionName(id, companion.Name),
            Image = companion.Image,
            User = string.IsNullOrWhiteSpace(companion.User) ? null! : companion.User,
            Env = [.. companion.Environment.Select(kv => $"{kv.Key}={kv.Value}")],
            Labels = companionLabels,
            WorkingDir = companion.WorkingDirectory ?? string.Empty,
            StopTimeout = _options.DefaultStopGrace,
            Healthcheck = companion.Healthcheck is { } check
                ? new HealthcheckConfig
                {
                    Test = [.. check.Test],
                    Interval = check.Interval ?? TimeSpan.Zero,
                    Timeout = check.Timeout ?? TimeSpan.Zero,
                    StartPeriod = check.StartPeriod ?? TimeSpan.Zero,
                    Retries = check.Retries ?? 0,
                }
                : null!,
            HostConfig = new HostConfig
            {
                Init = true,
                Privileged = false,
                SecurityOpt = ["no-new-privileges", .. companion.SecurityOptions ?? []],
                CapDrop = ["ALL"],
                CapAdd = [.. _capabilities.Union((companion.CapAdd ?? []).Select(c => "CAP_" + c.ToUpperInvariant()))],
                ShmSize = companion.ShmSizeBytes ?? 0,
                Mounts = mounts,
                NanoCPUs = spec.Resources.Cpus > 0 ? (long)Math.Round(spec.Resources.Cpus * 1_000_000_000d) : 0,
                Memory = Math.Max(0, spec.Resources.MemoryBytes),
                PidsLimit = _options.PidsLimit > 0 ? _options.PidsLimit : null,
                RestartPolicy = new RestartPolicy { Name = companion.RestartOnFailure ? RestartPolicyKind.OnFailure : RestartPolicyKind.No },
                // The workspace container's network namespace: its loopback, its (own) bridge network, no ports of its own.
                NetworkMode = $"container:{containerId}",
            },
        };
        if (companion.Entrypoint is { } entrypoint)
        {
            parameters.Entrypoint = [.. entrypoint];
        }

        if (companion.Command is { } command)
        {
            parameters.Cmd = [.. command];
        }

        var created = await EngineAsync($"Creating companion {companion.Name} of workspace {id}", token =>
            _client.Containers.CreateContainerAsync(parameters, token), ct);
        if (companion.Files is { Length: > 0 } files)
        {
            await EngineAsync($"Copying the repository's files into companion {companion.Name} of workspace {id}", async token =>
            {
                await _client.Containers.ExtractArchiveToContainerAsync(
                    created.ID, new CopyToContainerParameters { Path = "/", AllowOverwriteDirWithFile = false }, new MemoryStream(files), token);
                return true;
            }, ct);
        }

        _logger.LogInformation("Workspace {WorkspaceId}: created companion {Companion} from {Image}", id, companion.Name, companion.Image);
    }

    /// <summary>After the workspace container started: its companions in dependency order, each restarted if it
    /// ran in a network namespace that ended with the container's last run; then waits (bounded) for their health
    /// checks, so that the hooks find a database taking connections.</summary>
    private async Task StartCompanionsAsync(string workspaceId, bool containerRestarted, CancellationToken ct)
    {
        var companions = await ListCompanionsAsync(workspaceId, ct);
        if (companions.Count == 0)
        {
            return;
        }

        foreach (var companion in StartOrder(companions))
        {
            var name = LabelOrNull(companion.Config?.Labels, RuntimeLabels.Companion);
            await EngineAsync($"Starting companion {name} of workspace {workspaceId}", async token =>
            {
                if (companion.State?.Running == true)
                {
                    if (containerRestarted)
                    {
                        await _client.Containers.RestartContainerAsync(companion.ID, new ContainerRestartParameters { WaitBeforeKillSeconds = 5 }, token);
                    }

                    return true;
                }

                return await _client.Containers.StartContainerAsync(companion.ID, new ContainerStartParameters(), token);
            }, ct);
        }

        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(ct);
        deadline.CancelAfter(_options.CompanionHealthTimeout);
        try
        {
            foreach (var companion in companions.Where(c => c.Config?.Healthcheck?.Test is { Count: > 0 } test && test[0] != "NONE"))
            {
                var name = LabelOrNull(companion.Config?.Labels, RuntimeLabels.Companion);
                while (true)
                {
                    var state = (await InspectByIdAsync(companion.ID, deadline.Token))?.State;
                    if (state?.Health?.Status is "healthy" || state?.Running != true)
                    {
                        break;
                    }

                    if (state.Health?.Status is "unhealthy")
                    {
                        _logger.LogWarning("Workspace {WorkspaceId}: companion {Companion} is unhealthy; the workspace goes on without waiting", workspaceId, name);
                        break;
                    }

                    await Task.Delay(250, deadline.Token);
                }
            }
        }
        catch (OperationCanceledException) when (!ct.IsCancellationRequested)
        {
            _logger.LogWarning("Workspace {WorkspaceId}: its companions were not healthy within {Timeout}; the workspace goes on", workspaceId, _options.CompanionHealthTimeout);
        }
    }

    /// <summary>Each companion after those it names in its after-label, the rest by name.</summary>
    private static List<ContainerInspectResponse> StartOrder(IReadOnlyList<ContainerInspectResponse> companions)
    {
        var byName = companions.ToDictionary(c => LabelOrNull(c.Config?.Labels, RuntimeLabels.Companion) ?? c.ID, StringComparer.Ordinal);
        var ordered = new List<ContainerInspectResponse>();
        var visiting = new HashSet<string>(StringComparer.Ordinal);
        void Visit(string name)
        {
            if (!byName.TryGetValue(name, out var companion) || ordered.Contains(companion) || !visiting.Add(name))
            {
                return;
            }

            foreach (var before in (LabelOrNull(companion.Config?.Labels, CompanionAfterLabel) ?? string.Empty).Split(',', StringSplitOptions.RemoveEmptyEntries))
            {
                Visit(before);
            }

            ordered.Add(companion);
        }

        foreach (var name in byName.Keys.Order(StringComparer.Ordinal))
        {
            Visit(name);
        }

        return ordered;
    }

    private static string? LabelOrNull(IDictionary<string, string>? labels, string key) =>
        labels is not null && labels.TryGetValue(key, out var value) ? value : null;

    private const string CompanionAfterLabel = "dev.clouddevenv.companion-after";

    private async Task StopCompanionsAsync(string workspaceId, uint seconds, CancellationToken ct)
    {
        foreach (var companion in (await ListCompanionsAsync(workspaceId, ct)).Where(c => c.State?.Running == true || c.State?.Restarting == true))
        {
            await EngineAsync($"Stopping companion {LabelOrNull(companion.Config?.Labels, RuntimeLabels.Companion)} of workspace {workspaceId}", async token =>
            {
                try
                {
                    return await _client.Containers.StopContainerAsync(companion.ID, new ContainerStopParameters { WaitBeforeKillSeconds = seconds }, token);
                }
                catch (DockerApiException e) when (e.StatusCode == HttpStatusCode.NotFound)
                {
                    return false;
                }
            }, ct, TimeSpan.FromSeconds(seconds) + _options.RequestTimeout);
        }
    }

    private async Task<IReadOnlyList<ContainerInspectResponse>> ListCompanionsAsync(string workspaceId, CancellationToken ct)
    {
        var listed = await EngineAsync($"Listing the companions of workspace {workspaceId}", token => _client.Containers.ListContainersAsync(new ContainersListParameters
        {
            All = true,
            Filters = new Dictionary<string, IDictionary<string, bool>>
            {
                ["label"] = new Dictionary<string, bool>
                {
                    [$"{RuntimeLabels.Managed}=true"] = true,
                    [$"{RuntimeLabels.CompanionOf}={workspaceId}"] = true,
                },
            },
        }, token), ct);
        var inspected = new List<ContainerInspectResponse>();
        foreach (var companion in listed)
        {
            if (await InspectByIdAsync(companion.ID, ct) is { } found)
            {
                inspected.Add(found);
            }
        }

        return inspected;
    }

    private static void ValidateCompanions(InstanceSpec spec)
    {
        foreach (var companion in spec.Companions ?? [])
        {
            if (!CompanionNamePattern().IsMatch(companion.Name))
            {
                throw new WorkspaceRuntimeException($"Workspace {spec.WorkspaceId}: '{companion.Name}' is not a service name (letters, digits, '_', '.', '-').", isPermanent: true);
            }

            if (companion.Mounts.Any(m => m.Kind == InstanceMountKind.Bind))
            {
                throw new WorkspaceRuntimeException($"Workspace {spec.WorkspaceId}: companion {companion.Name} may not bind-mount a host path.", isPermanent: true);
            }

            if (companion.Mounts.FirstOrDefault(m => m.Kind == InstanceMountKind.Volume && (m.Source is not { Length: > 0 and <= 64 } || !VolumeSourcePattern().IsMatch(m.Source))) is { } bad)
            {
                throw new WorkspaceRuntimeException($"Workspace {spec.WorkspaceId}: volume name '{bad.Source}' of companion {companion.Name} is not 1 to 64 letters, digits, '_', '.' or '-'.", isPermanent: true);
            }
        }

        foreach (var alias in spec.HostAliases ?? [])
        {
            if (!HostAliasPattern().IsMatch(alias))
            {
                throw new WorkspaceRuntimeException($"Workspace {spec.WorkspaceId}: '{alias}' is not a host name.", isPermanent: true);
            }
        }
    }

    [GeneratedRegex("^[a-zA-Z0-9][a-zA-Z0-9_.-]{0,62}$")]
    private static partial Regex CompanionNamePattern();

    [GeneratedRegex("^[a-zA-Z0-9]([a-zA-Z0-9_-]{0,61}[a-zA-Z0-9])?$")]
    private static partial Regex HostAliasPattern();
}
