namespace CloudDevEnv.Kubernetes.Manifests.Tests;

/// <summary>The NetworkPolicies, evaluated with the API's semantics (Rendering/NetworkPolicies.cs) for the pods of the
/// rendered overlay and a workspace pod labelled as the runtime labels them (runtime-api-calls.json's workspacePods,
/// which tests/Runtime.Kubernetes.Tests holds the runtime to): the boundaries each policy claims in its comment.</summary>
public sealed class NetworkPolicyTests
{
    private static readonly RuntimeApiCalls Calls = RuntimeApiCalls.Load();

    [Theory]
    [MemberData(nameof(Overlays.All), MemberType = typeof(Overlays))]
    public void A_workspace_is_reached_only_by_the_proxy_and_only_on_the_gateway_port(string overlay)
    {
        var rendered = RenderedOverlay.Of(overlay);
        var workspace = Workspace(rendered, "workspace a");
        var port = Calls.WorkspacePods.GatewayPort;

        Assert.True(NetworkPolicies.AdmitsIngress(rendered, workspace, Platform(rendered, "proxy"), port), "the proxy cannot reach a workspace's gateway");
        Assert.False(NetworkPolicies.AdmitsIngress(rendered, workspace, Platform(rendered, "proxy"), 13337), "the proxy reaches the IDE port behind the gateway");
        foreach (var other in new[] { Platform(rendered, "silo"), Platform(rendered, "api"), Workspace(rendered, "workspace b"), Stranger() })
        {
            Assert.False(NetworkPolicies.AdmitsIngress(rendered, workspace, other, port), $"{other} reaches a workspace's gateway");
        }
    }

    [Theory]
    [MemberData(nameof(Overlays.All), MemberType = typeof(Overlays))]
    public void A_workspace_reaches_DNS_and_the_internet_but_not_the_metadata_service_private_networks_the_platform_or_other_workspaces(string overlay)
    {
        var rendered = RenderedOverlay.Of(overlay);
        var workspace = Workspace(rendered, "workspace a");
        var dns = new PodIdentity("kube-dns", "kube-system", new Dictionary<string, string> { ["kubernetes.io/metadata.name"] = "kube-system" },
            new Dictionary<string, string> { ["k8s-app"] = "kube-dns" });

        Assert.True(NetworkPolicies.AdmitsEgress(rendered, workspace, dns, 53, "UDP"), "a workspace cannot resolve names");
        Assert.True(NetworkPolicies.AdmitsEgress(rendered, workspace, Ipv4Cidr.Parse("140.82.112.3/32"), 443), "a workspace cannot reach the internet (a git host)");
        foreach (var denied in new[] { "169.254.169.254/32", "10.0.0.1/32", "172.16.5.5/32", "192.168.1.1/32" })
        {
            Assert.False(NetworkPolicies.AdmitsEgress(rendered, workspace, Ipv4Cidr.Parse(denied), 80), $"a workspace reaches {denied}");
        }

        foreach (var other in new[] { Platform(rendered, "silo"), Platform(rendered, "api"), Platform(rendered, "proxy"), Workspace(rendered, "workspace b") })
        {
            foreach (var port in new[] { 11111, 30000, 5000, 5080, 5090, Calls.WorkspacePods.GatewayPort })
            {
                Assert.False(NetworkPolicies.AdmitsEgress(rendered, workspace, other, port, "TCP"), $"a workspace reaches {other} on {port}");
            }
        }
    }

    [Theory]
    [MemberData(nameof(Overlays.All), MemberType = typeof(Overlays))]
    public void The_silos_are_reached_by_the_silos_api_and_proxy_and_never_by_a_workspace(string overlay)
    {
        var rendered = RenderedOverlay.Of(overlay);
        var silo = Platform(rendered, "silo");
        foreach (var client in new[] { "silo", "api", "proxy" })
        {
            Assert.True(NetworkPolicies.AdmitsIngress(rendered, silo, Platform(rendered, client), 30000), $"the {client} cannot reach the silos' gateway");
        }

        Assert.True(NetworkPolicies.AdmitsIngress(rendered, silo, Platform(rendered, "silo"), 11111), "silos cannot reach each other");
        foreach (var port in new[] { 11111, 30000, 5090 })
        {
            Assert.False(NetworkPolicies.AdmitsIngress(rendered, silo, Workspace(rendered, "workspace a"), port), $"a workspace reaches a silo on {port}");
            Assert.False(NetworkPolicies.AdmitsIngress(rendered, Platform(rendered, "api"), Workspace(rendered, "workspace a"), 5000), "a workspace reaches the API");
        }
    }

    [Theory]
    [MemberData(nameof(Overlays.All), MemberType = typeof(Overlays))]
    public void Every_policy_selects_pods_that_exist(string overlay)
    {
        var rendered = RenderedOverlay.Of(overlay);
        var pods = rendered.Workloads.Select(w => (Namespace: w.Namespace, PodLabels: w.PodLabels)).Append((Namespace: Overlays.WorkspaceNamespace, PodLabels: Workspace(rendered, "w").Labels)).ToList();
        foreach (var policy in rendered.All<V1NetworkPolicy>())
        {
            Assert.True(pods.Any(p => p.Namespace == policy.Metadata.NamespaceProperty && LabelSelectors.Matches(policy.Spec.PodSelector, p.PodLabels)),
                $"NetworkPolicy {policy.Metadata.NamespaceProperty}/{policy.Metadata.Name} selects no pod of the platform");
        }
    }

    private static PodIdentity Workspace(RenderedOverlay rendered, string description) =>
        new(description, Overlays.WorkspaceNamespace, rendered.NamespaceLabels(Overlays.WorkspaceNamespace),
            new Dictionary<string, string>(Calls.WorkspacePods.Labels) { ["dev.clouddevenv.role"] = "workspace", ["dev.clouddevenv.workspace-id"] = description.Replace(' ', '-') });

    private static PodIdentity Platform(RenderedOverlay rendered, string component)
    {
        var workload = rendered.Component(component);
        return new PodIdentity(component, workload.Namespace, rendered.NamespaceLabels(workload.Namespace), workload.PodLabels);
    }

    private static PodIdentity Stranger() =>
        new("a pod of another team", "default", new Dictionary<string, string> { ["kubernetes.io/metadata.name"] = "default" }, new Dictionary<string, string> { ["app"] = "other" });
}
