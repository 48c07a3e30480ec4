using System.ComponentModel.DataAnnotations;
using System.Net;

namespace CloudDevEnv.Silo.Hosting;

/// <summary>What this process is and where it listens and keeps its data; section <c>Host</c>.</summary>
public sealed class HostProcessOptions : IValidatableObject
{
    public const string SectionName = "Host";

    /// <summary><see cref="HostRole.All"/>: local mode, one process on files. Any other role is one process of cluster
    /// mode, whose state is in PostgreSQL (<c>Cluster:ConnectionString</c>).</summary>
    public HostRole Role { get; set; } = HostRole.All;

    /// <summary>The REST API, the web page and the dashboard.</summary>
    [Required, Url]
    public string ApiUrl { get; set; } = "http://127.0.0.1:5000";

    /// <summary>The workspace proxy: <c>&lt;id&gt;.localhost:5080</c> in a browser.</summary>
    [Required, Url]
    public string ProxyUrl { get; set; } = "http://127.0.0.1:5080";

    /// <summary>A silo's own HTTP listener in cluster mode: <c>/healthz</c> and <c>/readyz</c>, for probes.</summary>
    [Required, Url]
    public string SiloHealthUrl { get; set; } = "http://127.0.0.1:5090";

    /// <summary>Local mode: grain state and reminders. Both modes: the key files and, unless configured elsewhere, the
    /// snapshots; <c>CDE_DATA_DIR</c>.</summary>
    [Required]
    public string DataDir { get; set; } = Path.Combine(
        Environment.GetFolderPath(Environment.SpecialFolder.LocalApplicationData, Environment.SpecialFolderOption.Create), "clouddevenv");

    [Range(1, 65535)]
    public int SiloPort { get; set; } = 11111;

    [Range(1, 65535)]
    public int GatewayPort { get; set; } = 30000;

    /// <summary>The address a silo listens on and gives the others and the clients (cluster mode).</summary>
    [Required]
    public string AdvertisedAddress { get; set; } = "127.0.0.1";

    /// <summary>A silo in a Kubernetes pod: Orleans' Kubernetes hosting takes the silo's name, address and cluster ids
    /// from the pod (<c>POD_NAME</c>, <c>POD_IP</c>, <c>ORLEANS_SERVICE_ID</c>, … as k8s/base/silo.yaml sets them) and
    /// removes from the membership the silos whose pods are gone. Off outside a cluster, where it cannot start.</summary>
    public bool KubernetesHosting { get; set; }

    public int ProxyPort => new Uri(ProxyUrl).Port;

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        if (!IPAddress.TryParse(AdvertisedAddress, out _))
        {
            yield return new ValidationResult($"Host:AdvertisedAddress must be an IP address, not '{AdvertisedAddress}'.");
        }

        if (KubernetesHosting && string.IsNullOrEmpty(Environment.GetEnvironmentVariable("KUBERNETES_SERVICE_HOST")))
        {
            yield return new ValidationResult("Host:KubernetesHosting is on, but this process is not in a Kubernetes pod (no KUBERNETES_SERVICE_HOST).");
        }
    }
}

/// <summary>What one process of the platform runs.</summary>
public enum HostRole
{
    /// <summary>Local mode: silo, API, proxy and dashboard in one process, state in files.</summary>
    All = 0,

    /// <summary>An Orleans silo: the grains, the runtime, the reminders.</summary>
    Silo = 1,

    /// <summary>The REST API, the web page, sign-in and the dashboard, as an Orleans client.</summary>
    Api = 2,

    /// <summary>The workspace proxy, as an Orleans client.</summary>
    Proxy = 3,
}
