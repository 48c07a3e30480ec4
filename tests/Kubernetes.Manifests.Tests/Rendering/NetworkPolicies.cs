namespace CloudDevEnv.Kubernetes.Manifests.Tests.Rendering;

/// <summary>A pod somewhere in the cluster, as NetworkPolicy sees it: its namespace (with that namespace's labels) and
/// its own labels.</summary>
internal sealed record PodIdentity(string Description, string Namespace, IDictionary<string, string> NamespaceLabels, IDictionary<string, string> Labels)
{
    public override string ToString() => Description;
}

/// <summary>NetworkPolicy semantics as the API defines them, for the pods and addresses the tests ask about: a pod is
/// isolated for a direction once any policy of that type selects it, and then admits only what some rule allows.</summary>
internal static class NetworkPolicies
{
    public const string Ingress = "Ingress";
    public const string Egress = "Egress";

    /// <summary>The policies of a direction that select a pod.</summary>
    public static IReadOnlyList<V1NetworkPolicy> Selecting(RenderedOverlay rendered, PodIdentity pod, string direction) =>
    [
        .. rendered.All<V1NetworkPolicy>().Where(p =>
            p.Metadata.NamespaceProperty == pod.Namespace
            && LabelSelectors.Matches(p.Spec.PodSelector, pod.Labels)
            && Types(p).Contains(direction)),
    ];

    /// <summary>policyTypes, or the API's default when it is left out: Ingress, and Egress when there are egress rules.</summary>
    public static IReadOnlyList<string> Types(V1NetworkPolicy policy) =>
        policy.Spec.PolicyTypes is { Count: > 0 } types
            ? [.. types]
            : policy.Spec.Egress is { Count: > 0 } ? [Ingress, Egress] : [Ingress];

    /// <summary>Whether <paramref name="target"/> accepts a TCP connection from <paramref name="source"/> on <paramref name="port"/>.</summary>
    public static bool AdmitsIngress(RenderedOverlay rendered, PodIdentity target, PodIdentity source, int port)
    {
        var policies = Selecting(rendered, target, Ingress);
        return policies.Count == 0 || policies.SelectMany(p => p.Spec.Ingress ?? []).Any(rule =>
            Allows(rule.Ports, port, "TCP") && (rule.FromProperty is null or { Count: 0 } || rule.FromProperty.Any(peer => Admits(peer, target.Namespace, source))));
    }

    /// <summary>Whether <paramref name="source"/> may open a connection to <paramref name="destination"/> on the port.</summary>
    public static bool AdmitsEgress(RenderedOverlay rendered, PodIdentity source, PodIdentity destination, int port, string protocol)
    {
        var policies = Selecting(rendered, source, Egress);
        return policies.Count == 0 || policies.SelectMany(p => p.Spec.Egress ?? []).Any(rule =>
            Allows(rule.Ports, port, protocol) && (rule.To is null or { Count: 0 } || rule.To.Any(peer => Admits(peer, source.Namespace, destination))));
    }

    /// <summary>Whether <paramref name="source"/> may send to an address outside the cluster's pods on the port.</summary>
    public static bool AdmitsEgress(RenderedOverlay rendered, PodIdentity source, Ipv4Cidr address, int port)
    {
        var policies = Selecting(rendered, source, Egress);
        return policies.Count == 0 || policies.SelectMany(p => p.Spec.Egress ?? []).Any(rule =>
            Allows(rule.Ports, port, "TCP") && (rule.To is null or { Count: 0 } || rule.To.Any(peer => peer.IpBlock is { } block && Admits(block, address))));
    }

    /// <summary>An ipBlock admits the whole of <paramref name="range"/> in part when any of it is in the block's cidr
    /// and not in one of its excepts.</summary>
    public static bool Admits(V1IPBlock block, Ipv4Cidr range)
    {
        var cidr = Ipv4Cidr.Parse(block.Cidr);
        return cidr.Overlaps(range) && !(block.Except ?? []).Select(Ipv4Cidr.Parse).Any(e => e.Contains(range));
    }

    private static bool Admits(V1NetworkPolicyPeer peer, string policyNamespace, PodIdentity pod)
    {
        if (peer.IpBlock is not null)
        {
            // Pod addresses are the pod network's: the tests check ipBlocks by address instead.
            return false;
        }

        if (peer.NamespaceSelector is null)
        {
            return pod.Namespace == policyNamespace && LabelSelectors.Matches(peer.PodSelector, pod.Labels);
        }

        return LabelSelectors.Matches(peer.NamespaceSelector, pod.NamespaceLabels)
            && (peer.PodSelector is null || LabelSelectors.Matches(peer.PodSelector, pod.Labels));
    }

    private static bool Allows(IList<V1NetworkPolicyPort>? ports, int port, string protocol) =>
        ports is null or { Count: 0 } || ports.Any(p =>
            (p.Protocol ?? "TCP") == protocol
            && (p.Port is null || (int.TryParse(p.Port.Value, out var number) && (number == port || (p.EndPort is { } end && number <= port && port <= end)))));
}
