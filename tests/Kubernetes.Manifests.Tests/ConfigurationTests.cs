namespace CloudDevEnv.Kubernetes.Manifests.Tests;

/// <summary>The settings the processes read (src/Silo/Hosting, src/PostgreSql/ClusterDatabaseOptions.cs) agree with the
/// labels, ports and names elsewhere in the manifests.</summary>
public sealed class ConfigurationTests
{
    [Theory]
    [MemberData(nameof(Overlays.All), MemberType = typeof(Overlays))]
    public void Silos_follow_the_orleans_kubernetes_hosting_conventions(string overlay)
    {
        var silo = RenderedOverlay.Of(overlay).Component("silo");
        var env = silo.PodSpec.Containers.Single().Env.ToDictionary(e => e.Name);

        Assert.Equal("metadata.name", env["POD_NAME"].ValueFrom.FieldRef.FieldPath);
        Assert.Equal("metadata.namespace", env["POD_NAMESPACE"].ValueFrom.FieldRef.FieldPath);
        Assert.Equal("status.podIP", env["POD_IP"].ValueFrom.FieldRef.FieldPath);
        Assert.Equal("metadata.labels['orleans/serviceId']", env["ORLEANS_SERVICE_ID"].ValueFrom.FieldRef.FieldPath);
        Assert.Equal("metadata.labels['orleans/clusterId']", env["ORLEANS_CLUSTER_ID"].ValueFrom.FieldRef.FieldPath);
        Assert.True(silo.PodLabels.ContainsKey("orleans/serviceId"));
        Assert.True(silo.PodLabels.ContainsKey("orleans/clusterId"));

        // What the host reads is the same value, and a silo advertises its pod's own address.
        Assert.Equal("$(ORLEANS_SERVICE_ID)", env["Cluster__ServiceId"].Value);
        Assert.Equal("$(ORLEANS_CLUSTER_ID)", env["Cluster__ClusterId"].Value);
        Assert.Equal("$(POD_IP)", env["Host__AdvertisedAddress"].Value);
        Assert.Equal("Silo", env["Host__Role"].Value);
        AssertDefinedBefore(silo.PodSpec.Containers.Single().Env);
    }

    [Theory]
    [MemberData(nameof(Overlays.All), MemberType = typeof(Overlays))]
    public void The_api_and_the_proxy_join_the_cluster_the_silos_label_themselves_with(string overlay)
    {
        var rendered = RenderedOverlay.Of(overlay);
        var settings = rendered.PlatformSettings();
        var silo = rendered.Component("silo");

        Assert.Equal(silo.PodLabels["orleans/serviceId"], settings["Cluster__ServiceId"]);
        Assert.Equal(silo.PodLabels["orleans/clusterId"], settings["Cluster__ClusterId"]);
        foreach (var component in new[] { "api", "proxy" })
        {
            var container = rendered.Component(component).PodSpec.Containers.Single();
            Assert.Contains(container.EnvFrom, e => e.ConfigMapRef?.Name?.StartsWith("clouddevenv-config", StringComparison.Ordinal) == true);
            Assert.DoesNotContain(container.Env, e => e.Name is "Cluster__ServiceId" or "Cluster__ClusterId");
        }
    }

    [Theory]
    [MemberData(nameof(Overlays.All), MemberType = typeof(Overlays))]
    public void Each_process_listens_where_its_container_port_and_probes_are(string overlay)
    {
        var rendered = RenderedOverlay.Of(overlay);
        var expected = new Dictionary<string, (string Variable, string Url)>
        {
            ["silo"] = ("Host__SiloHealthUrl", "http://0.0.0.0:5090"),
            ["api"] = ("Host__ApiUrl", "http://0.0.0.0:5000"),
            ["proxy"] = ("Host__ProxyUrl", "http://0.0.0.0:5080"),
        };

        foreach (var (component, (variable, url)) in expected)
        {
            var container = rendered.Component(component).PodSpec.Containers.Single();
            Assert.Equal(url, container.Env.Single(e => e.Name == variable).Value);
            var port = new Uri(url).Port;
            var named = container.Ports.Single(p => p.ContainerPort == port).Name;
            Assert.Equal(named, container.ReadinessProbe.HttpGet.Port.Value);
            Assert.Equal(named, container.LivenessProbe.HttpGet.Port.Value);
        }
    }

    [Theory]
    [MemberData(nameof(Overlays.All), MemberType = typeof(Overlays))]
    public void The_development_sign_in_is_off_because_the_api_listens_beyond_loopback(string overlay)
    {
        // The host refuses to start otherwise (HostConfiguration.RefuseDevSignInOffLoopback).
        Assert.Equal("false", RenderedOverlay.Of(overlay).PlatformSettings()["Auth__DevSignIn__Enabled"]);
    }

    [Theory]
    [MemberData(nameof(Overlays.All), MemberType = typeof(Overlays))]
    public void Every_config_map_a_container_reads_is_rendered(string overlay)
    {
        var rendered = RenderedOverlay.Of(overlay);
        var configMaps = rendered.All<V1ConfigMap>().Select(c => c.Metadata.Name).ToHashSet();

        foreach (var workload in rendered.Workloads)
        {
            foreach (var container in workload.PodSpec.Containers)
            {
                foreach (var source in (container.EnvFrom ?? []).Where(e => e.ConfigMapRef is not null && e.ConfigMapRef.Optional != true))
                {
                    Assert.True(configMaps.Contains(source.ConfigMapRef.Name), $"{workload} reads ConfigMap {source.ConfigMapRef.Name}, which is not rendered.");
                }
            }
        }
    }

    [Fact]
    public void The_dev_overlay_renders_every_secret_key_its_containers_read()
    {
        var rendered = RenderedOverlay.Of(Overlays.Dev);
        var secrets = rendered.All<V1Secret>().ToDictionary(s => s.Metadata.Name);

        foreach (var (workload, reference) in SecretKeyReferences(rendered))
        {
            Assert.True(secrets.TryGetValue(reference.Name, out var secret), $"{workload} reads Secret {reference.Name}, which is not rendered.");
            Assert.True(secret!.Data?.ContainsKey(reference.Key) == true, $"{workload} reads key {reference.Key} of Secret {reference.Name}, which has none.");
        }
    }

    [Fact]
    public void The_prod_overlay_holds_no_secret_and_reads_the_one_the_operator_creates()
    {
        var rendered = RenderedOverlay.Of(Overlays.Prod);

        Assert.Empty(rendered.All<V1Secret>());
        Assert.All(SecretKeyReferences(rendered), r => Assert.Equal("clouddevenv-secrets", r.Reference.Name));
        var keys = SecretKeyReferences(rendered).Select(r => r.Reference.Key).ToHashSet();
        Assert.Equal(["connection-string", "proxy-signing-key", "s3-access-key", "s3-secret-key", "secrets-key"], keys.Order());
    }

    [Fact]
    public void Prod_keeps_snapshots_where_every_silo_finds_them()
    {
        var settings = RenderedOverlay.Of(Overlays.Prod).PlatformSettings();

        Assert.Equal("S3", settings["Snapshots__Store"]);
        Assert.StartsWith("https://", settings["Snapshots__S3__ServiceUrl"], StringComparison.Ordinal);
        Assert.False(string.IsNullOrEmpty(settings["Snapshots__S3__Bucket"]));
    }

    private static List<(Workload Workload, V1SecretKeySelector Reference)> SecretKeyReferences(RenderedOverlay rendered) =>
    [
        .. rendered.Workloads.SelectMany(w => w.PodSpec.Containers
            .SelectMany(c => c.Env ?? [])
            .Where(e => e.ValueFrom?.SecretKeyRef is not null)
            .Select(e => (w, e.ValueFrom.SecretKeyRef))),
    ];

    /// <summary>Kubernetes expands $(NAME) only for variables defined earlier in the list.</summary>
    private static void AssertDefinedBefore(IList<V1EnvVar> env)
    {
        var names = env.Select(e => e.Name).ToList();
        for (var i = 0; i < env.Count; i++)
        {
            foreach (System.Text.RegularExpressions.Match reference in System.Text.RegularExpressions.Regex.Matches(env[i].Value ?? string.Empty, @"\$\(([A-Za-z_][A-Za-z0-9_]*)\)"))
            {
                var name = reference.Groups[1].Value;
                var at = names.IndexOf(name);
                Assert.True(at >= 0 && at < i, $"{env[i].Name} refers to $({name}), which is not defined before it.");
            }
        }
    }
}
