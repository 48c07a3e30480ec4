using System.Collections.Concurrent;
using k8s;

namespace CloudDevEnv.Kubernetes.Manifests.Tests.Rendering;

/// <summary>One overlay rendered by <c>kubectl kustomize</c> and parsed strictly: every document must be a kind the
/// KubernetesClient models know, and every field one its model has (a misspelt or misplaced field fails here, where
/// kubectl apply would have ignored or refused it only on a real cluster).</summary>
internal sealed class RenderedOverlay
{
    private static readonly ConcurrentDictionary<string, Lazy<RenderedOverlay>> Cache = new();

    private RenderedOverlay(string name, string yaml)
    {
        Name = name;
        Yaml = yaml;
        Objects = Parse(yaml);
        Workloads = [.. Objects.OfType<V1Deployment>().Select(Of), .. Objects.OfType<V1StatefulSet>().Select(Of)];
    }

    public string Name { get; }

    public string Yaml { get; }

    public IReadOnlyList<IKubernetesObject<V1ObjectMeta>> Objects { get; }

    public IReadOnlyList<Workload> Workloads { get; }

    /// <summary>k8s/overlays/<paramref name="overlay"/>, rendered once per test run.</summary>
    public static RenderedOverlay Of(string overlay) =>
        Cache.GetOrAdd(overlay, name => new Lazy<RenderedOverlay>(() =>
            new RenderedOverlay(name, Kubectl.Kustomize(Path.Combine(RepositoryRoot.Path, "k8s", "overlays", name))))).Value;

    /// <summary>Every document of a YAML stream, strictly: an unknown kind or field throws.</summary>
    public static IReadOnlyList<IKubernetesObject<V1ObjectMeta>> Parse(string yaml) =>
        [.. KubernetesYaml.LoadAllFromString(yaml, typeMap: null, strict: true).Select(document =>
            document as IKubernetesObject<V1ObjectMeta>
            ?? throw new InvalidOperationException($"A rendered document is a {document.GetType().Name}, not an object with metadata."))];

    public IEnumerable<T> All<T>() => Objects.OfType<T>();

    public T Single<T>(string name)
        where T : IKubernetesObject<V1ObjectMeta> =>
        Objects.OfType<T>().SingleOrDefault(o => o.Metadata.Name == name)
        ?? throw new InvalidOperationException($"The {Name} overlay renders no {typeof(T).Name} named {name}.");

    /// <summary>The workload whose app.kubernetes.io/component is <paramref name="component"/>.</summary>
    public Workload Component(string component) =>
        Workloads.SingleOrDefault(w => w.Component == component)
        ?? throw new InvalidOperationException($"The {Name} overlay renders no workload of component {component}.");

    /// <summary>The labels of a rendered Namespace (NetworkPolicy namespace selectors match these).</summary>
    public IDictionary<string, string> NamespaceLabels(string name)
    {
        var labels = new Dictionary<string, string>(Single<V1Namespace>(name).Metadata.Labels ?? new Dictionary<string, string>())
        {
            // Set by the API server on every namespace (Kubernetes 1.21 and later).
            ["kubernetes.io/metadata.name"] = name,
        };
        return labels;
    }

    /// <summary>The one generated ConfigMap every platform process reads its settings from.</summary>
    public IDictionary<string, string> PlatformSettings() =>
        All<V1ConfigMap>().Single(c => c.Metadata.Name.StartsWith("clouddevenv-config", StringComparison.Ordinal)).Data;

    public override string ToString() => Name;

    private static Workload Of(V1Deployment d) => new(
        "Deployment", d.Metadata.Name, d.Metadata.NamespaceProperty, d.Spec.Replicas ?? 1, d.Spec.Selector,
        d.Spec.Template.Metadata.Labels ?? new Dictionary<string, string>(), d.Spec.Template.Spec);

    private static Workload Of(V1StatefulSet s) => new(
        "StatefulSet", s.Metadata.Name, s.Metadata.NamespaceProperty, s.Spec.Replicas ?? 1, s.Spec.Selector,
        s.Spec.Template.Metadata.Labels ?? new Dictionary<string, string>(), s.Spec.Template.Spec);
}
