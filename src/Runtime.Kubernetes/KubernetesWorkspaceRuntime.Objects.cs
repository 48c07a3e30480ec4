using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.RegularExpressions;
using k8s;
using k8s.Models;

namespace CloudDevEnv.Runtime.Kubernetes;

// Objects: how a workspace's Secret, PVCs, Service and pod are named, labelled and built from its InstanceSpec.
public sealed partial class KubernetesWorkspaceRuntime
{
    /// <summary>Label with the workspace's role for NetworkPolicies: "workspace" on workspace pods.</summary>
    public const string RoleLabel = "dev.clouddevenv.role";

    /// <summary>Annotation holding the owner exactly (a label value cannot hold every user name).</summary>
    public const string OwnerAnnotation = "dev.clouddevenv/owner";

    /// <summary>On the /tmp claim, one per claim filled from the image (<c>-workspaces</c>, <c>-home</c>).</summary>
    internal const string PopulatedMarker = ".clouddevenv-populated";

    /// <summary>On the Secret: set once the workspace's pod first ran (a pod-less workspace is then Exited, not Created).</summary>
    public const string StartedAnnotation = "dev.clouddevenv/started";

    /// <summary>On the pod: the gateway's secret it was made with, hashed (the Secret holds the secret).</summary>
    public const string GatewayHashAnnotation = "dev.clouddevenv/gateway-hash";

    private const string WorkspaceContainer = "workspace";
    private const string SecretKey = "gateway-secret";
    private const string TemplateKey = "pod.json";
    private const string UserKey = "container-user";

    internal string ObjectName(string workspaceId) => _options.NamePrefix + workspaceId;

    internal string ClaimName(string workspaceId, string role) => $"{_options.NamePrefix}{workspaceId}-{role}";

    /// <summary>A PVC name for a devcontainer.json volume: lower-cased, with a hash of the exact name so that "Cache" and
    /// "cache" stay two claims, and short enough for the 253 characters of an object name.</summary>
    internal string MountClaimName(string workspaceId, string volume)
    {
        var hash = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(volume)))[..8];
        var safe = NotDnsCharacters().Replace(volume.ToLowerInvariant(), "-").Trim('-', '.');
        return ClaimName(workspaceId, $"mount-{(safe.Length > 40 ? safe[..40] : safe)}-{hash}");
    }

    private string ManagedSelector() => string.IsNullOrEmpty(_options.Installation)
        ? $"{RuntimeLabels.Managed}=true"
        : $"{RuntimeLabels.Managed}=true,{RuntimeLabels.Installation}={_options.Installation}";

    private string WorkspaceSelector(string workspaceId) => $"{ManagedSelector()},{RuntimeLabels.WorkspaceId}={workspaceId}";

    private Dictionary<string, string> Labels(string workspaceId, string owner)
    {
        var labels = new Dictionary<string, string>
        {
            [RuntimeLabels.Managed] = "true",
            [RuntimeLabels.WorkspaceId] = workspaceId,
            [RuntimeLabels.Owner] = OwnerLabelValue(owner),
        };
        if (!string.IsNullOrEmpty(_options.Installation))
        {
            labels[RuntimeLabels.Installation] = _options.Installation;
        }

        return labels;
    }

    /// <summary>The owner as a label value (to select an owner's pods): kept when it is one, else made one with a hash.</summary>
    internal static string OwnerLabelValue(string owner)
    {
        if (LabelValuePattern().IsMatch(owner))
        {
            return owner;
        }

        var hash = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(owner)))[..10];
        var safe = NotLabelCharacters().Replace(owner, "_").Trim('_', '-', '.');
        return $"{(safe.Length > 40 ? safe[..40] : safe)}_{hash}".TrimStart('_');
    }

    private V1ObjectMeta Meta(string name, string workspaceId, string owner, IDictionary<string, string>? extraLabels = null) => new()
    {
        Name = name,
        NamespaceProperty = _options.Namespace,
        Labels = extraLabels is null ? Labels(workspaceId, owner) : Labels(workspaceId, owner).Concat(extraLabels).ToDictionary(),
        Annotations = new Dictionary<string, string> { [OwnerAnnotation] = owner },
    };

    private V1PersistentVolumeClaim Claim(string name, string workspaceId, string owner, string size, string role) => new()
    {
        ApiVersion = "v1",
        Kind = "PersistentVolumeClaim",
        Metadata = Meta(name, workspaceId, owner, new Dictionary<string, string> { ["dev.clouddevenv.volume-role"] = role }),
        Spec = new V1PersistentVolumeClaimSpec
        {
            AccessModes = ["ReadWriteOnce"],
            StorageClassName = string.IsNullOrWhiteSpace(_options.StorageClassName) ? null : _options.StorageClassName,
            Resources = new V1VolumeResourceRequirements { Requests = new Dictionary<string, ResourceQuantity> { ["storage"] = new(size) } },
        },
    };

    private V1Service GatewayService(InstanceSpec spec, InstanceGateway gateway) => new()
    {
        ApiVersion = "v1",
        Kind = "Service",
        Metadata = Meta(ObjectName(spec.WorkspaceId), spec.WorkspaceId, spec.Owner),
        Spec = new V1ServiceSpec
        {
            Type = _options.GatewayAddressing == GatewayAddressing.NodePort ? "NodePort" : "ClusterIP",
            // The workspace-id label alone: the prepare pod of a workspace has an id of its own.
            Selector = new Dictionary<string, string> { [RuntimeLabels.Managed] = "true", [RuntimeLabels.WorkspaceId] = spec.WorkspaceId },
            Ports = [new V1ServicePort { Name = "gateway", Port = gateway.Port, TargetPort = gateway.Port, Protocol = "TCP" }],
        },
    };

    /// <summary>The pod a start makes, kept in the workspace's Secret so that every start makes the same one.</summary>
    private V1Pod PodTemplate(InstanceSpec spec)
    {
        var id = spec.WorkspaceId;
        var name = ObjectName(id);
        var mounts = new List<V1VolumeMount>
        {
            new() { Name = "workspaces", MountPath = _options.WorkspacesPath },
            new() { Name = "home", MountPath = _options.HomePath },
            new() { Name = "tmp", MountPath = "/tmp" },
            new() { Name = "ide", MountPath = _options.IdeBundleTarget, ReadOnlyProperty = true },
        };
        var volumes = new List<V1Volume>
        {
            new() { Name = "workspaces", PersistentVolumeClaim = new V1PersistentVolumeClaimVolumeSource { ClaimName = ClaimName(id, "workspaces") } },
            new() { Name = "home", PersistentVolumeClaim = new V1PersistentVolumeClaimVolumeSource { ClaimName = ClaimName(id, "home") } },
            new() { Name = "tmp", PersistentVolumeClaim = new V1PersistentVolumeClaimVolumeSource { ClaimName = ClaimName(id, "tmp") } },
            new() { Name = "ide", PersistentVolumeClaim = new V1PersistentVolumeClaimVolumeSource { ClaimName = _options.IdeBundleClaim, ReadOnlyProperty = true } },
        };
        var index = 0;
        foreach (var m in spec.Mounts)
        {
            // A mount the spec asks for wins over ours at the same place.
            var replaced = mounts.FindIndex(x => x.MountPath.TrimEnd('/') == m.Target.TrimEnd('/'));
            if (replaced >= 0)
            {
                volumes.RemoveAll(v => v.Name == mounts[replaced].Name);
                mounts.RemoveAt(replaced);
            }

            var volume = $"extra-{index++}";
            mounts.Add(new V1VolumeMount { Name = volume, MountPath = m.Target, ReadOnlyProperty = m.ReadOnly });
            volumes.Add(m.Kind switch
            {
                InstanceMountKind.Volume => new V1Volume
                {
                    Name = volume,
                    PersistentVolumeClaim = new V1PersistentVolumeClaimVolumeSource { ClaimName = MountClaimName(id, m.Source), ReadOnlyProperty = m.ReadOnly },
                },
                InstanceMountKind.Tmpfs => new V1Volume { Name = volume, EmptyDir = new V1EmptyDirVolumeSource { Medium = "Memory" } },
                _ => new V1Volume { Name = volume, HostPath = new V1HostPathVolumeSource { Path = m.Source, Type = "Directory" } },
            });
        }

        if (spec.ShmSizeBytes is { } shm)
        {
            mounts.Add(new V1VolumeMount { Name = "shm", MountPath = "/dev/shm" });
            volumes.Add(new V1Volume { Name = "shm", EmptyDir = new V1EmptyDirVolumeSource { Medium = "Memory", SizeLimit = new ResourceQuantity(shm.ToString(CultureInfo.InvariantCulture)) } });
        }

        var initContainers = VolumePreparation(spec, volumes.Select(v => v.Name).ToHashSet(StringComparer.Ordinal));
        var environment = spec.Environment.Select(kv => new V1EnvVar { Name = kv.Key, Value = kv.Value }).ToList();
        List<string> command;
        if (spec.Gateway is { } gateway)
        {
            environment.Add(new V1EnvVar { Name = "CDE_GATEWAY_PORT", Value = gateway.Port.ToString(CultureInfo.InvariantCulture) });
            environment.Add(new V1EnvVar { Name = "CDE_GATEWAY_IDE_PORT", Value = gateway.IdePort.ToString(CultureInfo.InvariantCulture) });
            // From the Secret: the secret is in no pod's spec, so that whoever may read pods does not learn it.
            environment.Add(new V1EnvVar { Name = "CDE_GATEWAY_SECRET", ValueFrom = new V1EnvVarSource { SecretKeyRef = new V1SecretKeySelector { Key = SecretKey, Name = name } } });
            // The gateway as the container's user, from the bundle's node, in any image (as on Docker).
            command = ExecHelper.Command(_options.IdeBundleTarget, new ExecHelper.Request(spec.User, null, null),
                [$"{_options.IdeBundleTarget}/node/bin/node", $"{_options.IdeBundleTarget}/gateway/gateway.mjs"]);
        }
        else
        {
            command = spec.Command is { Count: > 0 } given ? [.. given] : ["sleep", "infinity"];
        }

        var (securityProfile, appArmor) = SecurityProfiles(spec);
        var labels = Labels(id, spec.Owner);
        labels[RoleLabel] = spec.Gateway is null ? "prepare" : "workspace";
        var annotations = new Dictionary<string, string> { [OwnerAnnotation] = spec.Owner };
        if (spec.Gateway is { } g)
        {
            labels[RuntimeLabels.GatewayPort] = g.Port.ToString(CultureInfo.InvariantCulture);
            annotations[GatewayHashAnnotation] = GatewayHash(g);
        }

        return new V1Pod
        {
            ApiVersion = "v1",
            Kind = "Pod",
            Metadata = new V1ObjectMeta { Name = name, NamespaceProperty = _options.Namespace, Labels = labels, Annotations = annotations },
            Spec = new V1PodSpec
            {
                RestartPolicy = "Never",
                Hostname = id,
                AutomountServiceAccountToken = false,
                EnableServiceLinks = false,
                // The pause container is PID 1 and reaps what exec'd servers leave behind (Docker's --init).
                ShareProcessNamespace = true,
                RuntimeClassName = string.IsNullOrWhiteSpace(_options.RuntimeClassName) ? null : _options.RuntimeClassName,
                TerminationGracePeriodSeconds = (long)Math.Ceiling(_options.DefaultStopGrace.TotalSeconds),
                HostAliases = spec.HostAliases is { Count: > 0 } aliases ? [new V1HostAlias { Ip = "127.0.0.1", Hostnames = [.. aliases] }] : null,
                SecurityContext = new V1PodSecurityContext { SeccompProfile = securityProfile, AppArmorProfile = appArmor },
                Volumes = volumes,
                InitContainers = initContainers,
                Containers =
                [
                    new V1Container
                    {
                        Name = WorkspaceContainer,
                        Image = QualifiedImage(spec.Image),
                        Command = command,
                        Env = environment,
                        Ports = spec.Gateway is { } p ? [new V1ContainerPort { Name = "gateway", ContainerPort = p.Port, Protocol = "TCP" }] : null,
                        VolumeMounts = mounts,
                        Resources = Resources(spec.Resources),
                        SecurityContext = new V1SecurityContext
                        {
                            // Root in the container, with the capability set only and no way to gain more: Kubernetes' exec
                            // has no user, so execs start as root and the helper drops to the user each one names.
                            RunAsUser = 0,
                            Privileged = false,
                            AllowPrivilegeEscalation = false,
                            Capabilities = new V1Capabilities
                            {
                                Drop = ["ALL"],
                                Add = [.. _capabilities.Union((spec.CapAdd ?? []).Select(c => c.ToUpperInvariant()))],
                            },
                        },
                    },
                ],
            },
        };
    }

    /// <summary>A new PVC is empty where Docker fills a new volume from the image (its files, and the owner and mode of the
    /// folder it is mounted on): before the first start, an init container of the workspace's image does the same for the
    /// workspaces and home claims, copying without overwriting, and opens the /tmp claim to everyone as /tmp is. Markers
    /// on the /tmp claim say what was done, so that later starts leave the user's files alone. Null when the spec mounts
    /// something else at all three places.</summary>
    private List<V1Container>? VolumePreparation(InstanceSpec spec, IReadOnlySet<string> volumes)
    {
        var script = new StringBuilder("""
            set -e
            populate() {
              if [ -n "$3" ] && [ -e "$3" ]; then return 0; fi
              if [ -d "$2" ]; then
                cp -a -n "$2/." "$1/"
                chown "$(stat -c %u:%g "$2")" "$1"
                chmod "$(stat -c %a "$2")" "$1"
              fi
              if [ -n "$3" ]; then touch "$3"; fi
            }

            """);
        var hasTmp = volumes.Contains("tmp");
        var mounts = new List<V1VolumeMount>();
        if (hasTmp)
        {
            mounts.Add(new V1VolumeMount { Name = "tmp", MountPath = "/mnt/cde/tmp" });
            script.Append("chmod 1777 /mnt/cde/tmp\n");
        }

        foreach (var (volume, path) in new[] { ("workspaces", _options.WorkspacesPath), ("home", _options.HomePath) })
        {
            if (volumes.Contains(volume))
            {
                mounts.Add(new V1VolumeMount { Name = volume, MountPath = $"/mnt/cde/{volume}" });
                var marker = hasTmp ? $"/mnt/cde/tmp/{PopulatedMarker}-{volume}" : "";
                script.Append(CultureInfo.InvariantCulture, $"populate /mnt/cde/{volume} '{path}' '{marker}'\n");
            }
        }

        return mounts.Count == 0 ? null :
        [
            new V1Container
            {
                Name = "prepare-volumes",
                Image = QualifiedImage(spec.Image),
                Command = ["/bin/sh", "-c", script.ToString()],
                VolumeMounts = mounts,
                Resources = Resources(spec.Resources),
                SecurityContext = new V1SecurityContext
                {
                    RunAsUser = 0,
                    Privileged = false,
                    AllowPrivilegeEscalation = false,
                    Capabilities = new V1Capabilities { Drop = ["ALL"], Add = ["CHOWN", "DAC_OVERRIDE", "FOWNER", "FSETID"] },
                },
            },
        ];
    }

    /// <summary>Docker's security options as the pod's profiles; any other option is refused rather than dropped.</summary>
    private static (V1SeccompProfile Seccomp, V1AppArmorProfile? AppArmor) SecurityProfiles(InstanceSpec spec)
    {
        var seccomp = new V1SeccompProfile { Type = "RuntimeDefault" };
        V1AppArmorProfile? appArmor = null;
        foreach (var option in spec.SecurityOptions ?? [])
        {
            switch (option.Replace(':', '=').ToLowerInvariant())
            {
                case "seccomp=unconfined":
                    seccomp = new V1SeccompProfile { Type = "Unconfined" };
                    break;
                case "apparmor=unconfined":
                    appArmor = new V1AppArmorProfile { Type = "Unconfined" };
                    break;
                case "no-new-privileges" or "no-new-privileges=true":
                    break;
                default:
                    throw new WorkspaceRuntimeException(
                        $"Workspace {spec.WorkspaceId}: the security option '{option}' has no equivalent on Kubernetes (only seccomp=unconfined and apparmor=unconfined).",
                        isPermanent: true);
            }
        }

        return (seccomp, appArmor);
    }

    private V1ResourceRequirements Resources(InstanceResources resources)
    {
        var limits = new Dictionary<string, ResourceQuantity>();
        var requests = new Dictionary<string, ResourceQuantity>();
        if (resources.Cpus > 0)
        {
            limits["cpu"] = new ResourceQuantity($"{(long)Math.Round(resources.Cpus * 1000)}m");
            requests["cpu"] = new ResourceQuantity($"{Math.Max(50, (long)Math.Round(resources.Cpus * 1000 * _options.RequestFraction))}m");
        }

        if (resources.MemoryBytes > 0)
        {
            limits["memory"] = new ResourceQuantity(resources.MemoryBytes.ToString(CultureInfo.InvariantCulture));
            var request = Math.Max(64L * 1024 * 1024, (long)(resources.MemoryBytes * _options.RequestFraction));
            requests["memory"] = new ResourceQuantity(Math.Min(request, resources.MemoryBytes).ToString(CultureInfo.InvariantCulture));
        }

        return new V1ResourceRequirements { Limits = limits.Count > 0 ? limits : null, Requests = requests.Count > 0 ? requests : null };
    }

    /// <summary>The image with <see cref="KubernetesRuntimeOptions.ImageRegistry"/> in front when it names no registry
    /// (no '.', ':' or "localhost" in its first component).</summary>
    internal string QualifiedImage(string image)
    {
        if (string.IsNullOrWhiteSpace(_options.ImageRegistry))
        {
            return image;
        }

        var first = image.Split('/')[0];
        var hasRegistry = image.Contains('/') && (first.Contains('.') || first.Contains(':') || first == "localhost");
        return hasRegistry ? image : $"{_options.ImageRegistry.TrimEnd('/')}/{image}";
    }

    private static string GatewayHash(InstanceGateway gateway) =>
        Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes($"{gateway.Port}|{gateway.IdePort}|{gateway.Secret}")))[..32];

    private V1Secret WorkspaceSecret(InstanceSpec spec, V1Pod template) => new()
    {
        ApiVersion = "v1",
        Kind = "Secret",
        Type = "Opaque",
        Metadata = Meta(ObjectName(spec.WorkspaceId), spec.WorkspaceId, spec.Owner),
        Data = new Dictionary<string, byte[]>
        {
            [SecretKey] = Encoding.UTF8.GetBytes(spec.Gateway?.Secret ?? ""),
            [TemplateKey] = Encoding.UTF8.GetBytes(KubernetesJson.Serialize(template)),
            [UserKey] = Encoding.UTF8.GetBytes(spec.User ?? ""),
        },
    };

    private static V1Pod TemplateOf(V1Secret secret) =>
        secret.Data?.TryGetValue(TemplateKey, out var json) == true
            ? KubernetesJson.Deserialize<V1Pod>(Encoding.UTF8.GetString(json))
            : throw new WorkspaceRuntimeException($"The Secret {secret.Metadata?.Name} holds no pod template; delete the workspace and create it again.", isPermanent: true);

    private static string SecretValue(V1Secret secret, string key) =>
        secret.Data?.TryGetValue(key, out var value) == true ? Encoding.UTF8.GetString(value) : "";

    private static void ValidateId(string workspaceId)
    {
        if (string.IsNullOrEmpty(workspaceId) || !WorkspaceIdPattern().IsMatch(workspaceId))
        {
            throw new WorkspaceRuntimeException(
                $"'{workspaceId}' is not a workspace id (a DNS label: lower-case letters, digits and '-', at most 63 characters).", isPermanent: true);
        }
    }

    private void ValidateSpec(InstanceSpec spec)
    {
        ValidateId(spec.WorkspaceId);
        if (string.IsNullOrWhiteSpace(spec.Image))
        {
            throw new WorkspaceRuntimeException($"Workspace {spec.WorkspaceId}: no image was named.", isPermanent: true);
        }

        if (spec.Ephemeral)
        {
            throw new WorkspaceRuntimeException($"Workspace {spec.WorkspaceId}: the kubernetes runtime makes no instance without claims (those are for prebuilds, which it does not build).", isPermanent: true);
        }

        if (spec.Gateway is { } gateway && (gateway.Secret.Length < InstanceGateway.MinSecretLength || spec.Command is { Count: > 0 }))
        {
            throw new WorkspaceRuntimeException($"Workspace {spec.WorkspaceId}: a gateway needs a secret of {InstanceGateway.MinSecretLength}+ characters and no command.", isPermanent: true);
        }

        if (spec.Companions is { Count: > 0 })
        {
            throw new WorkspaceRuntimeException($"Workspace {spec.WorkspaceId}: the Kubernetes runtime runs no companion containers.", isPermanent: true);
        }

        foreach (var mount in spec.Mounts)
        {
            if (string.IsNullOrWhiteSpace(mount.Target) || !mount.Target.StartsWith('/'))
            {
                throw new WorkspaceRuntimeException($"Workspace {spec.WorkspaceId}: mount target '{mount.Target}' is not an absolute path.", isPermanent: true);
            }

            if (mount.Kind == InstanceMountKind.WorkspaceVolume)
            {
                throw new WorkspaceRuntimeException(
                    $"Workspace {spec.WorkspaceId}: one pod cannot mount another workspace's folder volume on Kubernetes (WorkspaceVolumePath is null).", isPermanent: true);
            }

            if (mount.Kind == InstanceMountKind.Bind && !_options.AllowHostPathMounts)
            {
                throw new WorkspaceRuntimeException(
                    $"Workspace {spec.WorkspaceId}: the host folder {mount.Source} cannot be mounted: host paths are off on Kubernetes ({KubernetesRuntimeOptions.SectionName}:AllowHostPathMounts). Use a repository URL the cluster can clone.",
                    isPermanent: true);
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
        }
    }

    [GeneratedRegex("^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$")]
    private static partial Regex WorkspaceIdPattern();

    [GeneratedRegex("^[a-zA-Z0-9][a-zA-Z0-9_.-]*$")]
    private static partial Regex VolumeSourcePattern();

    [GeneratedRegex("^([A-Za-z0-9]([A-Za-z0-9_.-]{0,61}[A-Za-z0-9])?)?$")]
    private static partial Regex LabelValuePattern();

    [GeneratedRegex("[^A-Za-z0-9_.-]")]
    private static partial Regex NotLabelCharacters();

    [GeneratedRegex("[^a-z0-9.-]")]
    private static partial Regex NotDnsCharacters();
}
