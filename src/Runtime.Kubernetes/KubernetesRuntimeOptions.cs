namespace CloudDevEnv.Runtime.Kubernetes;

/// <summary>Settings of <see cref="KubernetesWorkspaceRuntime"/>, bound from the configuration section
/// <c>Runtime:Kubernetes</c> (see <see cref="SectionName"/>) and validated at start-up.</summary>
public sealed class KubernetesRuntimeOptions
{
    public const string SectionName = "Runtime:Kubernetes";

    /// <summary>The kubeconfig file to use; empty: the in-cluster service account when running in a pod, else
    /// <c>KUBECONFIG</c> or <c>~/.kube/config</c>.</summary>
    public string? Kubeconfig { get; set; }

    /// <summary>The kubeconfig context; empty: its current context.</summary>
    public string? Context { get; set; }

    /// <summary>The namespace workspaces live in. Every object the runtime makes is in it, so its RBAC is a Role there.</summary>
    public string Namespace { get; set; } = "clouddevenv-workspaces";

    /// <summary>Prefix of every object's name: pod and Service <c>&lt;prefix&gt;&lt;workspace id&gt;</c>, PVCs
    /// <c>…-workspaces</c>, <c>…-home</c>, <c>…-mount-&lt;name&gt;</c>.</summary>
    public string NamePrefix { get; set; } = "cde-";

    /// <summary>As <c>Runtime:Docker:Installation</c>: set, every object is labelled with it and only those are listed.</summary>
    public string? Installation { get; set; }

    /// <summary>The pods' <c>runtimeClassName</c> (e.g. <c>gvisor</c> or <c>kata</c>); empty: the cluster's default.</summary>
    public string? RuntimeClassName { get; set; }

    /// <summary>The storage class of the workspace PVCs; empty: the cluster's default.</summary>
    public string? StorageClassName { get; set; }

    /// <summary>The size of the PVC that holds <c>/workspaces</c>.</summary>
    public string WorkspacesStorage { get; set; } = "10Gi";

    /// <summary>The size of the PVC that holds <c>/home</c>, and of each extra volume devcontainer.json asks for.</summary>
    public string HomeStorage { get; set; } = "5Gi";

    /// <summary>The size of the claim for <c>/tmp</c>, which on Docker is part of the container kept across stop and start:
    /// here it outlives the pod for the same reason (the lifecycle hooks' markers are there, among what users keep).</summary>
    public string TmpStorage { get; set; } = "1Gi";

    /// <summary>A registry prepended to every image reference that names none (<c>clouddevenv/workspace:1</c> becomes
    /// <c>&lt;registry&gt;/clouddevenv/workspace:1</c>); empty: references go to the kubelet as they are.</summary>
    public string? ImageRegistry { get; set; }

    /// <summary>The PVC (ReadOnlyMany) holding the IDE bundle, mounted read-only at <see cref="IdeBundleTarget"/> in every
    /// pod. A claim rather than an image volume (alpha/beta behind a feature gate before Kubernetes 1.35) or an init
    /// container copying the bundle (hundreds of megabytes at every start): filled once per platform version.</summary>
    public string IdeBundleClaim { get; set; } = "clouddevenv-ide";

    /// <summary>Where the IDE bundle appears inside workspace pods; the exec helper runs on its node.</summary>
    public string IdeBundleTarget { get; set; } = "/opt/clouddevenv/ide";

    public string WorkspacesPath { get; set; } = "/workspaces";

    public string HomePath { get; set; } = "/home";

    /// <summary>How the proxy reaches a workspace's gateway: <see cref="GatewayAddressing.ServiceDns"/> (the Service's
    /// cluster DNS name: the proxy runs in the cluster) or <see cref="GatewayAddressing.NodePort"/> (the Service's node
    /// port on <see cref="NodeAddress"/>: a proxy outside the cluster).</summary>
    public GatewayAddressing GatewayAddressing { get; set; } = GatewayAddressing.ServiceDns;

    /// <summary>The node address used with <see cref="GatewayAddressing.NodePort"/>.</summary>
    public string NodeAddress { get; set; } = "127.0.0.1";

    /// <summary>The cluster's DNS domain, for <see cref="GatewayAddressing.ServiceDns"/>.</summary>
    public string ClusterDomain { get; set; } = "cluster.local";

    /// <summary>Host folders as hostPath volumes (a <c>file://</c> repository read by the clone). Off: a host path on a
    /// node is a way out of the pod, and nodes do not hold the API server's files anyway.</summary>
    public bool AllowHostPathMounts { get; set; }

    /// <summary>Capabilities kept (names without <c>CAP_</c>); null: the Docker runtime's set.</summary>
    public string[]? Capabilities { get; set; }

    /// <summary>Requests are this fraction of the limits (at least 0.05 core and 64 MiB), so that a node can be
    /// packed with idle workspaces while each may burst to its limit.</summary>
    public double RequestFraction { get; set; } = 0.25;

    /// <summary>The grace a pod gets when stopped with a negative grace.</summary>
    public TimeSpan DefaultStopGrace { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>How long a start waits for the pod to run (scheduling, pulling the image, mounting the volumes).</summary>
    public TimeSpan StartTimeout { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>How long one short API call may take.</summary>
    public TimeSpan RequestTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>How long one HTTP probe of a workspace's gateway may take.</summary>
    public TimeSpan ProbeTimeout { get; set; } = TimeSpan.FromSeconds(3);
}

public enum GatewayAddressing
{
    ServiceDns = 0,
    NodePort = 1,
}
