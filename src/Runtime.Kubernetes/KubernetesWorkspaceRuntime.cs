using System.Net;
using k8s;
using k8s.Autorest;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace CloudDevEnv.Runtime.Kubernetes;

/// <summary><see cref="IWorkspaceRuntime"/> on the Kubernetes API.</summary>
/// <remarks>
/// A workspace is a Secret <c>&lt;prefix&gt;&lt;id&gt;</c> (its gateway secret and the pod it runs as), PVCs for
/// <c>/workspaces</c>, <c>/home</c> and each extra volume, a Service in front of its gateway, and, while it runs, a
/// Pod of that name. Create makes all but the pod; start makes the pod from the template in the Secret; stop deletes
/// the pod and keeps the rest; delete removes everything. Pod status comes from a watch (<see cref="PodWatch"/>), not
/// from a poll per call. Every object carries <see cref="RuntimeLabels"/> as labels.
/// </remarks>
public sealed partial class KubernetesWorkspaceRuntime : IWorkspaceRuntime, IDisposable
{
    private readonly KubernetesRuntimeOptions _options;
    private readonly ILogger _logger;
    private readonly IKubernetes _client;
    private readonly string _server;
    private readonly HttpClient _probe;
    private readonly PodWatch _pods;
    private readonly IReadOnlyList<string> _capabilities;

    public KubernetesWorkspaceRuntime(KubernetesRuntimeOptions options, ILogger<KubernetesWorkspaceRuntime>? logger = null)
        : this(options, Configure(options), logger)
    {
    }

    /// <summary>With a client configuration of the caller's (a test's API server).</summary>
    public KubernetesWorkspaceRuntime(KubernetesRuntimeOptions options, KubernetesClientConfiguration configuration, ILogger<KubernetesWorkspaceRuntime>? logger = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(configuration);
        KubernetesRuntimeOptionsValidator.ThrowIfInvalid(options);
        _options = options;
        _logger = (ILogger?)logger ?? NullLogger.Instance;
        _server = configuration.Host ?? "?";
        _client = new k8s.Kubernetes(configuration);
        _capabilities = (options.Capabilities ?? DefaultCapabilities)
            .Select(c => c.Trim().ToUpperInvariant()).Select(c => c.StartsWith("CAP_", StringComparison.Ordinal) ? c[4..] : c).Distinct().ToList();
        _probe = new HttpClient(new SocketsHttpHandler
        {
            UseProxy = false,
            AllowAutoRedirect = false,
            ConnectTimeout = options.ProbeTimeout,
            PooledConnectionLifetime = TimeSpan.FromSeconds(30),
        })
        {
            Timeout = Timeout.InfiniteTimeSpan,
        };
        _pods = new PodWatch(_client, options.Namespace, ManagedSelector(), _logger);
    }

    /// <summary>The Docker runtime's capability set, so that a workspace can do the same on either runtime.</summary>
    public static readonly IReadOnlyList<string> DefaultCapabilities =
    [
        "CHOWN", "DAC_OVERRIDE", "FOWNER", "FSETID", "KILL", "SETGID", "SETUID", "SETPCAP", "NET_BIND_SERVICE", "SYS_CHROOT",
    ];

    public string Name => "kubernetes";

    public string Scope => $"kubernetes|{_server}|{_options.Namespace}|{_options.Installation ?? "-"}";

    /// <summary>False: a compose configuration's services would be the pod's other containers, which this runtime does not
    /// make yet; the resolver says so to the user.</summary>
    public bool RunsCompanions => false;

    public string? WorkspaceVolumePath => null;

    /// <summary>The pod watch's counters, for operators and tests.</summary>
    public PodWatchCounters WatchCounters => _pods.Counters;

    private int _disposed;

    public void Dispose()
    {
        // The container that made it disposes it once for each service it is registered as.
        if (Interlocked.Exchange(ref _disposed, 1) == 1)
        {
            return;
        }

        _pods.Dispose();
        _client.Dispose();
        _probe.Dispose();
    }

    private static KubernetesClientConfiguration Configure(KubernetesRuntimeOptions options)
    {
        if (string.IsNullOrWhiteSpace(options.Kubeconfig) && KubernetesClientConfiguration.IsInCluster())
        {
            return KubernetesClientConfiguration.InClusterConfig();
        }

        return KubernetesClientConfiguration.BuildConfigFromConfigFile(
            string.IsNullOrWhiteSpace(options.Kubeconfig) ? null : options.Kubeconfig,
            string.IsNullOrWhiteSpace(options.Context) ? null : options.Context);
    }

    /// <summary>Runs one API call bounded by <see cref="KubernetesRuntimeOptions.RequestTimeout"/> and maps its failures;
    /// the caller's cancellation propagates as <see cref="OperationCanceledException"/>.</summary>
    private async Task<T> ApiAsync<T>(string action, Func<CancellationToken, Task<T>> call, CancellationToken ct, TimeSpan? timeout = null)
    {
        var limit = timeout ?? _options.RequestTimeout;
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(ct);
        cts.CancelAfter(limit);
        try
        {
            return await call(cts.Token);
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
            throw;
        }
        catch (OperationCanceledException e)
        {
            throw new WorkspaceRuntimeException($"{action}: the Kubernetes API at {_server} did not answer within {limit.TotalSeconds:0}s.", isPermanent: false, e);
        }
        catch (Exception e) when (e is not WorkspaceRuntimeException)
        {
            throw Map(e, action);
        }
    }

    /// <summary><see cref="ApiAsync{T}"/> for a look-up: 404 answers null.</summary>
    private Task<T?> FindAsync<T>(string action, Func<CancellationToken, Task<T>> call, CancellationToken ct)
        where T : class =>
        ApiAsync<T?>(action, async token =>
        {
            try
            {
                return await call(token);
            }
            catch (HttpOperationException e) when (e.Response.StatusCode == HttpStatusCode.NotFound)
            {
                return null;
            }
        }, ct);

    /// <summary><see cref="ApiAsync{T}"/> for a create: 409 (it exists) answers false.</summary>
    private Task<bool> CreateIfAbsentAsync(string action, Func<CancellationToken, Task> call, CancellationToken ct) =>
        ApiAsync(action, async token =>
        {
            try
            {
                await call(token);
                return true;
            }
            catch (HttpOperationException e) when (e.Response.StatusCode == HttpStatusCode.Conflict)
            {
                return false;
            }
        }, ct);

    /// <summary><see cref="ApiAsync{T}"/> for a delete: 404 (already gone) succeeds.</summary>
    private Task DeleteIfPresentAsync(string action, Func<CancellationToken, Task> call, CancellationToken ct) =>
        ApiAsync(action, async token =>
        {
            try
            {
                await call(token);
            }
            catch (HttpOperationException e) when (e.Response.StatusCode == HttpStatusCode.NotFound)
            {
            }

            return true;
        }, ct);

    /// <summary>What the API said, as a runtime failure: refusals (a policy, RBAC, an invalid object) are permanent,
    /// the rest (the server busy or away) is retried.</summary>
    private WorkspaceRuntimeException Map(Exception e, string action)
    {
        if (e is HttpOperationException http)
        {
            var status = http.Response.StatusCode;
            var message = StatusMessage(http);
            var permanent = status is HttpStatusCode.BadRequest or HttpStatusCode.Forbidden or HttpStatusCode.Unauthorized
                or HttpStatusCode.UnprocessableEntity or HttpStatusCode.NotFound or HttpStatusCode.MethodNotAllowed;
            var hint = status == HttpStatusCode.Forbidden
                ? $" (the platform's service account lacks this permission in namespace {_options.Namespace}: see k8s/base)"
                : "";
            return new WorkspaceRuntimeException($"{action}: the Kubernetes API answered {(int)status} {message}{hint}", permanent, e);
        }

        if (e is KubernetesException k)
        {
            return new WorkspaceRuntimeException($"{action}: {k.Status?.Message ?? k.Message}", isPermanent: false, e);
        }

        return new WorkspaceRuntimeException($"{action}: the Kubernetes API at {_server} is unreachable: {e.Message}", isPermanent: false, e);
    }

    private static string StatusMessage(HttpOperationException e)
    {
        var content = e.Response.Content;
        if (!string.IsNullOrWhiteSpace(content))
        {
            try
            {
                if (KubernetesJson.Deserialize<k8s.Models.V1Status>(content) is { Message: { Length: > 0 } m })
                {
                    return m;
                }
            }
            catch (System.Text.Json.JsonException)
            {
            }

            return content.Length > 300 ? content[..300] : content;
        }

        return e.Response.ReasonPhrase ?? "";
    }
}
