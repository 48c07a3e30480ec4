namespace CloudDevEnv.Kubernetes.Manifests.Tests.Rendering;

/// <summary>A Deployment or a StatefulSet, reduced to what the cross-checks compare: its pods' labels and spec.</summary>
internal sealed record Workload(
    string Kind,
    string Name,
    string Namespace,
    int Replicas,
    V1LabelSelector Selector,
    IDictionary<string, string> PodLabels,
    V1PodSpec PodSpec)
{
    /// <summary>app.kubernetes.io/component: silo, api or proxy.</summary>
    public string Component => PodLabels.TryGetValue("app.kubernetes.io/component", out var component) ? component : string.Empty;

    public override string ToString() => $"{Kind} {Namespace}/{Name}";
}
