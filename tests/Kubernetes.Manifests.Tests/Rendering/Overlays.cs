namespace CloudDevEnv.Kubernetes.Manifests.Tests.Rendering;

/// <summary>The overlays under k8s/overlays, for theories.</summary>
public static class Overlays
{
    public const string Dev = "dev";
    public const string Prod = "prod";

    public static TheoryData<string> All => new(Dev, Prod);

    /// <summary>The control plane's namespace and the workspaces' (k8s/base/namespaces.yaml).</summary>
    public const string ControlPlaneNamespace = "clouddevenv";
    public const string WorkspaceNamespace = "clouddevenv-workspaces";

    /// <summary>The components of the control plane, each one workload.</summary>
    public static readonly string[] Components = ["silo", "api", "proxy"];
}
