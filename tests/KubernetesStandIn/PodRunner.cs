using System.Collections.Concurrent;
using System.Globalization;
using System.Text;
using Docker.DotNet;
using Docker.DotNet.Models;
using k8s.Models;

namespace CloudDevEnv.KubernetesStandIn;

/// <summary>The stand-in's kubelet: each pod becomes one Docker container (its first container; init containers and
/// sidecars are not run), with a bridge network of its own, its PVCs as Docker volumes, emptyDirs of medium Memory as
/// tmpfs, hostPath as bind mounts, env from values and Secrets, the container's securityContext as Docker's options, and
/// the ports of NodePort Services that select it published on 127.0.0.1 at their node port. Status goes back to the
/// store as the kubelet reports it: Pending, Running, then Succeeded or Failed with the exit code.</summary>
internal sealed class PodRunner(string endpoint, ObjectStore store, IReadOnlyDictionary<string, string> preboundClaims) : IAsyncDisposable
{
    private readonly DockerClient _docker = new DockerClientBuilder().WithEndpoint(new Uri(endpoint)).WithTimeout(Timeout.InfiniteTimeSpan).Build();
    private readonly ConcurrentDictionary<(string Ns, string Pod), string> _containers = new();
    private readonly ConcurrentDictionary<(string Ns, string Pod), Task> _starts = new();
    private readonly ConcurrentDictionary<(string Ns, string Pod), byte> _deleting = new();
    private readonly ConcurrentDictionary<string, byte> _claimVolumes = new(StringComparer.Ordinal);

    public string Label { get; } = "dev.clouddevenv.kubernetes-stand-in";

    public DockerClient Docker => _docker;

    public string? ContainerOf(string ns, string pod) => _containers.TryGetValue((ns, pod), out var id) ? id : null;

    public string ClaimVolume(string ns, string claim) =>
        preboundClaims.TryGetValue(claim, out var volume) ? volume : $"k8s-standin-{ns}-{claim}";

    public void Start(string ns, string name) =>
        _starts[(ns, name)] = Task.Run(async () =>
        {
            try
            {
                await RunAsync(ns, name);
            }
            catch (Exception e)
            {
                SetStatus(ns, name, s =>
                {
                    s.Phase = "Pending";
                    s.ContainerStatuses = [Waiting(store.Get<V1Pod>(ResourceKind.Pods, ns, name), "CreateContainerError", e.Message)];
                });
            }
        });

    private async Task RunAsync(string ns, string name)
    {
        var pod = store.Get<V1Pod>(ResourceKind.Pods, ns, name) ?? throw new InvalidOperationException("gone");
        var c = pod.Spec.Containers[0];
        try
        {
            await _docker.Images.InspectImageAsync(c.Image);
        }
        catch (DockerImageNotFoundException)
        {
            SetStatus(ns, name, s => s.ContainerStatuses = [Waiting(pod, "ErrImagePull", $"failed to pull image \"{c.Image}\": not found (the stand-in pulls nothing)")]);
            return;
        }

        var env = new List<string>();
        foreach (var e in c.Env ?? [])
        {
            if (e.ValueFrom?.SecretKeyRef is { } reference)
            {
                var secret = store.Get<V1Secret>(ResourceKind.Secrets, ns, reference.Name);
                if (secret?.Data?.TryGetValue(reference.Key, out var bytes) != true)
                {
                    SetStatus(ns, name, s => s.ContainerStatuses = [Waiting(pod, "CreateContainerConfigError", $"secret \"{reference.Name}\" not found")]);
                    return;
                }

                env.Add($"{e.Name}={Encoding.UTF8.GetString(bytes!)}");
            }
            else
            {
                env.Add($"{e.Name}={e.Value}");
            }
        }

        var volumes = (pod.Spec.Volumes ?? []).ToDictionary(v => v.Name);
        List<Mount>? MountsOf(V1Container container)
        {
            var mounts = new List<Mount>();
            foreach (var m in container.VolumeMounts ?? [])
            {
                var v = volumes[m.Name];
                if (v.PersistentVolumeClaim is { } pvc)
                {
                    if (store.Get<V1PersistentVolumeClaim>(ResourceKind.Claims, ns, pvc.ClaimName) is null && !preboundClaims.ContainsKey(pvc.ClaimName))
                    {
                        SetStatus(ns, name, s => s.Conditions = [new V1PodCondition { Type = "PodScheduled", Status = "False", Reason = "Unschedulable", Message = $"persistentvolumeclaim \"{pvc.ClaimName}\" not found" }]);
                        return null;
                    }

                    if (!preboundClaims.ContainsKey(pvc.ClaimName))
                    {
                        _claimVolumes.TryAdd(ClaimVolume(ns, pvc.ClaimName), 0);
                    }

                    // NoCopy: a new PVC is empty, as a cluster's are; Docker would otherwise fill it from the image.
                    mounts.Add(new Mount
                    {
                        Type = "volume", Source = ClaimVolume(ns, pvc.ClaimName), Target = m.MountPath,
                        ReadOnly = m.ReadOnlyProperty == true || pvc.ReadOnlyProperty == true,
                        VolumeOptions = new VolumeOptions { NoCopy = true },
                    });
                }
                else if (v.EmptyDir is { } empty)
                {
                    mounts.Add(new Mount
                    {
                        Type = "tmpfs",
                        Target = m.MountPath,
                        TmpfsOptions = new TmpfsOptions { SizeBytes = empty.SizeLimit is { } size ? (long)size.ToDecimal() : 0 },
                    });
                }
                else if (v.HostPath is { } host)
                {
                    mounts.Add(new Mount { Type = "bind", Source = host.Path, Target = m.MountPath, ReadOnly = m.ReadOnlyProperty == true });
                }
            }

            return mounts;
        }

        if (MountsOf(c) is not { } mounts)
        {
            return;
        }

        // The ports of the NodePort Services that select this pod, on loopback at their node ports.
        var bindings = new Dictionary<string, IList<PortBinding>>();
        var (services, _) = store.List(ResourceKind.Services, ns, LabelSelector.Parse(null));
        foreach (var service in services.Cast<V1Service>().Where(s => s.Spec.Type == "NodePort" && Selects(s.Spec.Selector, pod.Metadata.Labels)))
        {
            foreach (var port in service.Spec.Ports ?? [])
            {
                var target = int.Parse(port.TargetPort?.Value ?? port.Port.ToString(CultureInfo.InvariantCulture), CultureInfo.InvariantCulture);
                bindings[$"{target}/tcp"] = [new PortBinding { HostIP = "127.0.0.1", HostPort = port.NodePort!.Value.ToString(CultureInfo.InvariantCulture) }];
            }
        }

        var network = DockerName(ns, name);
        // A network of that name left by a run that died would make the name ambiguous to Docker: it goes first.
        await RemoveNetworkAsync(network);
        await _docker.Networks.CreateNetworkAsync(new NetworksCreateParameters { Name = network, Driver = "bridge", Labels = new Dictionary<string, string> { [Label] = "true" } });

        // Init containers one after the other, each to its end, before the pod's container; one that fails fails the pod
        // (restartPolicy Never), as the kubelet does.
        foreach (var init in pod.Spec.InitContainers ?? [])
        {
            if (_deleting.ContainsKey((ns, name)) || MountsOf(init) is not { } initMounts)
            {
                return;
            }

            var job = await _docker.Containers.CreateContainerAsync(new CreateContainerParameters
            {
                Name = $"{DockerName(ns, name)}-init-{init.Name}",
                Image = init.Image,
                Entrypoint = init.Command is { Count: > 0 } ? [.. init.Command] : null!,
                Cmd = init.Args is { Count: > 0 } ? [.. init.Args] : (init.Command is { Count: > 0 } ? [] : null!),
                User = init.SecurityContext?.RunAsUser?.ToString(CultureInfo.InvariantCulture) ?? null!,
                Labels = new Dictionary<string, string> { [Label] = "true", ["k8s-standin.pod"] = $"{ns}.{name}" },
                HostConfig = new HostConfig
                {
                    CapDrop = [.. init.SecurityContext?.Capabilities?.Drop ?? []],
                    CapAdd = [.. (init.SecurityContext?.Capabilities?.Add ?? []).Select(x => "CAP_" + x)],
                    SecurityOpt = [.. SecurityOptions(pod, init.SecurityContext)],
                    Mounts = initMounts,
                    NetworkMode = network,
                },
            });
            try
            {
                await _docker.Containers.StartContainerAsync(job.ID, new ContainerStartParameters());
                var ended = await _docker.Containers.WaitContainerAsync(job.ID);
                if (ended.StatusCode != 0)
                {
                    SetStatus(ns, name, st =>
                    {
                        st.Phase = "Failed";
                        st.Reason = null;
                        st.Message = $"init container {init.Name} exited with {ended.StatusCode}";
                        st.InitContainerStatuses = [Terminated(init, (int)ended.StatusCode, "Error")];
                    });
                    return;
                }
            }
            finally
            {
                await _docker.Containers.RemoveContainerAsync(job.ID, new ContainerRemoveParameters { Force = true });
            }
        }

        var security = c.SecurityContext;
        var cpu = c.Resources?.Limits?.TryGetValue("cpu", out var cpus) == true ? (long)(cpus.ToDecimal() * 1_000_000_000m) : 0;
        var memory = c.Resources?.Limits?.TryGetValue("memory", out var mem) == true ? (long)mem.ToDecimal() : 0;
        var created = await _docker.Containers.CreateContainerAsync(new CreateContainerParameters
        {
            Name = DockerName(ns, name),
            Image = c.Image,
            Hostname = pod.Spec.Hostname ?? name.Split('.')[0],
            Entrypoint = c.Command is { Count: > 0 } ? [.. c.Command] : null!,
            Cmd = c.Args is { Count: > 0 } ? [.. c.Args] : (c.Command is { Count: > 0 } ? [] : null!),
            Env = env,
            User = security?.RunAsUser?.ToString(CultureInfo.InvariantCulture) ?? null!,
            Labels = new Dictionary<string, string> { [Label] = "true", ["k8s-standin.pod"] = $"{ns}.{name}" },
            ExposedPorts = bindings.Keys.ToDictionary(k => k, _ => new EmptyStruct()),
            HostConfig = new HostConfig
            {
                // A shared process namespace's pause container reaps orphans; Docker's init does that here.
                Init = pod.Spec.ShareProcessNamespace == true,
                Privileged = security?.Privileged == true,
                CapDrop = [.. security?.Capabilities?.Drop ?? []],
                CapAdd = [.. (security?.Capabilities?.Add ?? []).Select(x => "CAP_" + x)],
                SecurityOpt = [.. SecurityOptions(pod, security)],
                Mounts = mounts,
                PortBindings = bindings,
                NanoCPUs = cpu,
                Memory = memory,
                NetworkMode = network,
                ExtraHosts = [.. (pod.Spec.HostAliases ?? []).SelectMany(a => a.Hostnames.Select(h => $"{h}:{a.Ip}"))],
            },
        });
        _containers[(ns, name)] = created.ID;
        if (_deleting.ContainsKey((ns, name)))
        {
            return;
        }

        await _docker.Containers.StartContainerAsync(created.ID, new ContainerStartParameters());
        var inspected = await _docker.Containers.InspectContainerAsync(created.ID);
        SetStatus(ns, name, s =>
        {
            s.Phase = "Running";
            s.PodIP = inspected.NetworkSettings?.Networks?.Values.FirstOrDefault()?.IPAddress;
            s.StartTime = DateTime.UtcNow;
            s.ContainerStatuses =
            [
                new V1ContainerStatus
                {
                    Name = c.Name, Image = c.Image, ImageID = inspected.Image, ContainerID = $"docker://{created.ID}", Ready = true, RestartCount = 0,
                    State = new V1ContainerState { Running = new V1ContainerStateRunning { StartedAt = DateTime.UtcNow } },
                },
            ];
        });
        _ = WatchExitAsync(ns, name, c, created.ID);
    }

    private async Task WatchExitAsync(string ns, string name, V1Container c, string id)
    {
        try
        {
            var exit = await _docker.Containers.WaitContainerAsync(id);
            if (_deleting.ContainsKey((ns, name)))
            {
                return;
            }

            SetStatus(ns, name, s =>
            {
                if (s.Phase == "Failed" && s.Reason is not null)
                {
                    return; // evicted: the reason stays
                }

                s.Phase = exit.StatusCode == 0 ? "Succeeded" : "Failed";
                s.ContainerStatuses = [Terminated(c, (int)exit.StatusCode, exit.StatusCode == 0 ? "Completed" : "Error")];
            });
        }
        catch (DockerApiException)
        {
        }
    }

    /// <summary>As the kubelet evicts: the pod Failed with a reason, its container killed.</summary>
    public async Task EvictAsync(string ns, string name, string reason, string message)
    {
        var c = store.Get<V1Pod>(ResourceKind.Pods, ns, name)?.Spec.Containers[0] ?? throw new InvalidOperationException($"no pod {name}");
        SetStatus(ns, name, s =>
        {
            s.Phase = "Failed";
            s.Reason = reason;
            s.Message = message;
            s.ContainerStatuses = [Terminated(c, 137, "Error")];
        });
        if (ContainerOf(ns, name) is { } id)
        {
            try
            {
                await _docker.Containers.KillContainerAsync(id, new ContainerKillParameters { Signal = "KILL" });
            }
            catch (DockerApiException)
            {
            }
        }
    }

    /// <summary>A graceful delete: deletionTimestamp set at once, the container stopped with the grace, then the pod gone.</summary>
    public V1Pod? Delete(string ns, string name, TimeSpan grace)
    {
        _deleting[(ns, name)] = 0;
        store.TryReplace(ResourceKind.Pods, ns, name, o =>
        {
            var p = (V1Pod)o;
            p.Metadata.DeletionTimestamp = DateTime.UtcNow;
            p.Metadata.DeletionGracePeriodSeconds = (long)grace.TotalSeconds;
            return p;
        }, null);
        var terminating = store.Get<V1Pod>(ResourceKind.Pods, ns, name);
        _ = Task.Run(async () =>
        {
            try
            {
                if (_starts.TryRemove((ns, name), out var starting))
                {
                    await starting;
                }

                await RemoveContainerAsync(ns, name, grace);
            }
            catch (Exception e)
            {
                Console.Error.WriteLine($"Kubernetes stand-in: removing the container of pod {ns}/{name} failed: {e.Message}");
            }
            finally
            {
                // The pod goes whatever became of its container, as the API server drops it once the kubelet says so.
                store.Remove(ResourceKind.Pods, ns, name);
                _deleting.TryRemove((ns, name), out _);
            }
        });
        return terminating;
    }

    private async Task RemoveContainerAsync(string ns, string name, TimeSpan grace)
    {
        if (_containers.TryRemove((ns, name), out var id))
        {
            try
            {
                await _docker.Containers.StopContainerAsync(id, new ContainerStopParameters { WaitBeforeKillSeconds = (uint)grace.TotalSeconds });
            }
            catch (DockerApiException)
            {
            }

            try
            {
                await _docker.Containers.RemoveContainerAsync(id, new ContainerRemoveParameters { Force = true });
            }
            catch (DockerApiException)
            {
            }
        }

        await RemoveNetworkAsync(DockerName(ns, name));
    }

    private async Task RemoveNetworkAsync(string network)
    {
        var found = await _docker.Networks.ListNetworksAsync(new NetworksListParameters
        {
            Filters = new Dictionary<string, IDictionary<string, bool>> { ["name"] = new Dictionary<string, bool> { [network] = true } },
        });
        foreach (var stale in found.Where(n => n.Name == network))
        {
            try
            {
                await _docker.Networks.DeleteNetworkAsync(stale.ID);
            }
            catch (DockerApiException)
            {
            }
        }
    }

    public async Task RemoveClaimAsync(string ns, string claim)
    {
        if (preboundClaims.ContainsKey(claim))
        {
            return;
        }

        // A volume still mounted by a terminating pod's container is removed once that has gone.
        for (var attempt = 0; attempt < 50; attempt++)
        {
            try
            {
                await _docker.Volumes.RemoveAsync(ClaimVolume(ns, claim), force: false);
                return;
            }
            catch (DockerApiException e) when (e.StatusCode == System.Net.HttpStatusCode.NotFound)
            {
                return;
            }
            catch (DockerApiException)
            {
                await Task.Delay(200);
            }
        }
    }

    private void SetStatus(string ns, string name, Action<V1PodStatus> change) =>
        store.TryReplace(ResourceKind.Pods, ns, name, o =>
        {
            var p = (V1Pod)o;
            p.Status ??= new V1PodStatus();
            change(p.Status);
            return p;
        }, null);

    private static IEnumerable<string> SecurityOptions(V1Pod pod, V1SecurityContext? security)
    {
        if (security?.AllowPrivilegeEscalation == false)
        {
            yield return "no-new-privileges";
        }

        if ((security?.SeccompProfile ?? pod.Spec.SecurityContext?.SeccompProfile)?.Type == "Unconfined")
        {
            yield return "seccomp=unconfined";
        }

        if ((security?.AppArmorProfile ?? pod.Spec.SecurityContext?.AppArmorProfile)?.Type == "Unconfined")
        {
            yield return "apparmor=unconfined";
        }
    }

    private static bool Selects(IDictionary<string, string>? selector, IDictionary<string, string>? labels) =>
        selector is { Count: > 0 } && selector.All(kv => labels?.TryGetValue(kv.Key, out var v) == true && v == kv.Value);

    private static V1ContainerStatus Waiting(V1Pod? pod, string reason, string message) => new()
    {
        Name = pod?.Spec.Containers[0].Name ?? "?",
        Image = pod?.Spec.Containers[0].Image ?? "?",
        ImageID = "",
        Ready = false,
        RestartCount = 0,
        State = new V1ContainerState { Waiting = new V1ContainerStateWaiting { Reason = reason, Message = message } },
    };

    private static V1ContainerStatus Terminated(V1Container c, int exitCode, string reason) => new()
    {
        Name = c.Name,
        Image = c.Image,
        ImageID = "",
        Ready = false,
        RestartCount = 0,
        State = new V1ContainerState { Terminated = new V1ContainerStateTerminated { ExitCode = exitCode, Reason = reason, FinishedAt = DateTime.UtcNow } },
    };

    private static string DockerName(string ns, string pod) => $"k8s-standin-{ns}-{pod}";

    public async ValueTask DisposeAsync()
    {
        foreach (var key in _containers.Keys.ToList())
        {
            await RemoveContainerAsync(key.Ns, key.Pod, TimeSpan.Zero);
        }

        // The stand-in's cluster ends with it: the volumes behind claims nobody deleted go too.
        foreach (var volume in _claimVolumes.Keys)
        {
            try
            {
                await _docker.Volumes.RemoveAsync(volume, force: true);
            }
            catch (DockerApiException)
            {
            }
        }

        _docker.Dispose();
    }
}
