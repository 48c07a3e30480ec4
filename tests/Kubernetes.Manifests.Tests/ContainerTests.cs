namespace CloudDevEnv.Kubernetes.Manifests.Tests;

public sealed class ContainerTests
{
    [Theory]
    [MemberData(nameof(Overlays.All), MemberType = typeof(Overlays))]
    public void Every_platform_container_has_liveness_on_healthz_and_readiness_on_readyz(string overlay)
    {
        foreach (var workload in RenderedOverlay.Of(overlay).Workloads)
        {
            foreach (var container in workload.PodSpec.Containers)
            {
                AssertHttpProbe(workload, container, container.LivenessProbe, "liveness", "/healthz");
                AssertHttpProbe(workload, container, container.ReadinessProbe, "readiness", "/readyz");
            }
        }
    }

    [Theory]
    [MemberData(nameof(Overlays.All), MemberType = typeof(Overlays))]
    public void Every_container_requests_cpu_and_memory(string overlay)
    {
        foreach (var workload in RenderedOverlay.Of(overlay).Workloads)
        {
            foreach (var container in workload.PodSpec.Containers.Concat(workload.PodSpec.InitContainers ?? []))
            {
                var requests = container.Resources?.Requests;
                Assert.True(requests is not null && requests.ContainsKey("cpu") && requests.ContainsKey("memory"),
                    $"{workload} container {container.Name} must request cpu and memory.");
                if (container.Resources!.Limits is { } limits)
                {
                    foreach (var (resource, limit) in limits)
                    {
                        Assert.True(!requests!.TryGetValue(resource, out var request) || request.ToDecimal() <= limit.ToDecimal(),
                            $"{workload} container {container.Name}: the {resource} request is above its limit.");
                    }
                }
            }
        }
    }

    [Theory]
    [MemberData(nameof(Overlays.All), MemberType = typeof(Overlays))]
    public void Every_container_runs_as_non_root_read_only_without_capabilities_under_runtime_default_seccomp(string overlay)
    {
        foreach (var workload in RenderedOverlay.Of(overlay).Workloads)
        {
            var pod = workload.PodSpec.SecurityContext;
            foreach (var container in workload.PodSpec.Containers.Concat(workload.PodSpec.InitContainers ?? []))
            {
                var own = container.SecurityContext;
                var where = $"{workload} container {container.Name}";
                Assert.True((own?.RunAsNonRoot ?? pod?.RunAsNonRoot) == true, $"{where}: runAsNonRoot");
                Assert.True((own?.RunAsUser ?? pod?.RunAsUser) is > 0, $"{where}: a numeric non-root runAsUser (an image's named user cannot be checked)");
                Assert.True(own?.ReadOnlyRootFilesystem == true, $"{where}: readOnlyRootFilesystem");
                Assert.True(own?.AllowPrivilegeEscalation == false, $"{where}: allowPrivilegeEscalation false");
                Assert.True(own?.Privileged != true, $"{where}: privileged");
                Assert.Contains("ALL", own?.Capabilities?.Drop ?? []);
                Assert.True(own?.Capabilities?.Add is null or { Count: 0 }, $"{where}: adds capabilities");
                Assert.Equal("RuntimeDefault", (own?.SeccompProfile ?? pod?.SeccompProfile)?.Type);
            }
        }
    }

    [Theory]
    [MemberData(nameof(Overlays.All), MemberType = typeof(Overlays))]
    public void Every_volume_mount_names_a_volume_of_its_pod(string overlay)
    {
        foreach (var workload in RenderedOverlay.Of(overlay).Workloads)
        {
            var volumes = (workload.PodSpec.Volumes ?? []).Select(v => v.Name).ToHashSet();
            foreach (var mount in workload.PodSpec.Containers.SelectMany(c => c.VolumeMounts ?? []))
            {
                Assert.True(volumes.Contains(mount.Name), $"{workload} mounts {mount.Name}, which it has no volume for.");
            }
        }
    }

    [Theory]
    [MemberData(nameof(Overlays.All), MemberType = typeof(Overlays))]
    public void Only_pods_whose_account_is_granted_api_calls_get_a_token(string overlay)
    {
        var rendered = RenderedOverlay.Of(overlay);
        var bound = rendered.All<V1RoleBinding>()
            .SelectMany(b => b.Subjects ?? [])
            .Where(s => s.Kind == "ServiceAccount")
            .Select(s => $"{s.NamespaceProperty}/{s.Name}")
            .ToHashSet();

        foreach (var workload in rendered.Workloads)
        {
            var account = workload.PodSpec.ServiceAccountName ?? "default";
            var serviceAccount = rendered.All<V1ServiceAccount>()
                .SingleOrDefault(a => a.Metadata.Name == account && a.Metadata.NamespaceProperty == workload.Namespace);
            Assert.True(serviceAccount is not null, $"{workload} runs as {account}, which the overlay does not create.");
            var mounted = workload.PodSpec.AutomountServiceAccountToken ?? serviceAccount!.AutomountServiceAccountToken ?? true;
            var callsTheApi = bound.Contains($"{workload.Namespace}/{account}");
            Assert.True(mounted == callsTheApi,
                $"{workload}: a token is {(mounted ? "" : "not ")}mounted, and its account is {(callsTheApi ? "" : "not ")}granted API calls.");
            if (!callsTheApi)
            {
                // Both off: the pod's own setting, and the account's for any pod that forgets it.
                Assert.False(workload.PodSpec.AutomountServiceAccountToken);
                Assert.False(serviceAccount!.AutomountServiceAccountToken);
            }
        }

        // Workspace pods run as their namespace's default account: it must hand out no token either.
        var workspaceDefault = rendered.All<V1ServiceAccount>()
            .Single(a => a.Metadata.Name == "default" && a.Metadata.NamespaceProperty == Overlays.WorkspaceNamespace);
        Assert.False(workspaceDefault.AutomountServiceAccountToken);
    }

    private static void AssertHttpProbe(Workload workload, V1Container container, V1Probe? probe, string kind, string path)
    {
        var where = $"{workload} container {container.Name}";
        Assert.True(probe?.HttpGet is not null, $"{where} has no {kind} probe over HTTP.");
        Assert.Equal(path, probe!.HttpGet.Path);
        var port = probe.HttpGet.Port.Value;
        Assert.True((container.Ports ?? []).Any(p => p.Name == port || p.ContainerPort.ToString(System.Globalization.CultureInfo.InvariantCulture) == port),
            $"{where}: the {kind} probe's port {port} is not a port of the container.");
    }
}
