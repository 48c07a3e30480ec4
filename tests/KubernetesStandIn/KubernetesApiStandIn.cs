using System.Collections.Concurrent;
using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using k8s;
using k8s.Models;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace CloudDevEnv.KubernetesStandIn;

/// <summary>A call the stand-in served, in RBAC's terms: what a Role must grant for it.</summary>
public sealed record ApiCall(string Verb, string Resource);

/// <summary>A STAND-IN for a Kubernetes API server, for tests (no real one can run on these machines). It serves, on
/// loopback, the core/v1 verbs the workspace runtime uses on pods, services, secrets and persistentvolumeclaims with
/// Kubernetes' semantics — resourceVersions, 404 and 409 as Status objects, watches from a resourceVersion with bookmarks
/// and <c>410 Gone</c> past its history, graceful pod deletion, exec over WebSocket (<c>v4.channel.k8s.io</c>) — and runs
/// each pod as a real container on the local Docker engine (<see cref="PodRunner"/>). It is not Kubernetes: no scheduler,
/// no NetworkPolicies, no admission, one node; PVCs are Docker volumes.</summary>
public sealed class KubernetesApiStandIn : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly ObjectStore _store;
    private readonly PodRunner _runner;
    private readonly ConcurrentDictionary<ApiCall, int> _calls = new();

    private KubernetesApiStandIn(WebApplication app, ObjectStore store, PodRunner runner)
    {
        _app = app;
        _store = store;
        _runner = runner;
    }

    /// <summary>The bearer token every request must carry (401 otherwise).</summary>
    public string Token { get; } = Convert.ToHexStringLower(System.Security.Cryptography.RandomNumberGenerator.GetBytes(16));

    public Uri Address { get; private set; } = null!;

    /// <summary>Every (verb, resource) served so far.</summary>
    public IReadOnlyCollection<ApiCall> Calls => [.. _calls.Keys];

    /// <summary>A label on everything the stand-in made on the Docker engine, so that tests can sweep it.</summary>
    public string DockerLabel => _runner.Label;

    public static async Task<KubernetesApiStandIn> StartAsync(string dockerEndpoint = "unix:///var/run/docker.sock", IReadOnlyDictionary<string, string>? preboundClaims = null)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        var app = builder.Build();
        app.UseWebSockets();
        var store = new ObjectStore();
        var runner = new PodRunner(dockerEndpoint, store, preboundClaims ?? new Dictionary<string, string>());
        var standIn = new KubernetesApiStandIn(app, store, runner);
        standIn.Map();
        await app.StartAsync();
        standIn.Address = new Uri(app.Urls.First());
        return standIn;
    }

    /// <summary>A client configuration for this server, as a kubeconfig would give it.</summary>
    public KubernetesClientConfiguration ClientConfiguration(string ns) => new() { Host = Address.ToString(), AccessToken = Token, Namespace = ns };

    /// <summary>A kubeconfig file naming this server, for a process that reads one.</summary>
    public string WriteKubeconfig(string path, string ns)
    {
        File.WriteAllText(path, $"""
            apiVersion: v1
            kind: Config
            clusters:
            - name: stand-in
              cluster:
                server: {Address.ToString().TrimEnd('/')}
            users:
            - name: stand-in
              user:
                token: {Token}
            contexts:
            - name: stand-in
              context:
                cluster: stand-in
                user: stand-in
                namespace: {ns}
            current-context: stand-in
            """);
        return path;
    }

    /// <summary>Ends every open watch (an API server restart).</summary>
    public void DropWatches() => _store.DropWatches();

    /// <summary>Compacts the history: a watch resumed from an older resourceVersion gets 410 Gone.</summary>
    public void Compact() => _store.Compact();

    /// <summary>Evicts a pod as the kubelet does under node pressure: its containers killed, phase Failed, reason Evicted.</summary>
    public Task EvictAsync(string ns, string pod) => _runner.EvictAsync(ns, pod, "Evicted", "The node was low on resource: memory.");

    /// <summary>The pod's node lost: phase Failed, reason NodeLost, its container gone.</summary>
    public Task LoseNodeAsync(string ns, string pod) => _runner.EvictAsync(ns, pod, "NodeLost", "Node stand-in which was running pod is unresponsive");

    /// <summary>The Docker container that runs the pod, or null.</summary>
    public string? ContainerOf(string ns, string pod) => _runner.ContainerOf(ns, pod);

    public V1Pod? Pod(string ns, string name) => _store.Get<V1Pod>(ResourceKind.Pods, ns, name);

    public IReadOnlyList<string> Names(string plural, string ns) =>
        [.. _store.List(ResourceKind.All.Single(k => k.Plural == plural), ns, LabelSelector.Parse(null)).Items.Select(o => o.Metadata.Name)];

    public async ValueTask DisposeAsync()
    {
        _store.DropWatches();
        await _app.StopAsync();
        await _app.DisposeAsync();
        await _runner.DisposeAsync();
    }

    private void Map()
    {
        _app.Use(async (context, next) =>
        {
            if (context.Request.Headers.Authorization.ToString() != $"Bearer {Token}")
            {
                await WriteStatusAsync(context, HttpStatusCode.Unauthorized, "Unauthorized", "Unauthorized");
                return;
            }

            await next(context);
        });
        const string Collection = "/api/v1/namespaces/{ns}/{plural}";
        const string Item = "/api/v1/namespaces/{ns}/{plural}/{name}";
        _app.MapGet(Collection, ListOrWatchAsync);
        _app.MapPost(Collection, CreateAsync);
        _app.MapGet(Item, GetAsync);
        _app.MapPut(Item, ReplaceAsync);
        _app.MapDelete(Item, DeleteAsync);
        _app.Map("/api/v1/namespaces/{ns}/pods/{name}/exec", ExecAsync);
    }

    private bool Known(string plural, out ResourceKind kind)
    {
        kind = ResourceKind.All.FirstOrDefault(k => k.Plural == plural)!;
        return kind is not null;
    }

    private void Record(string verb, string resource) => _calls.AddOrUpdate(new ApiCall(verb, resource), 1, (_, n) => n + 1);

    private async Task ListOrWatchAsync(HttpContext context, string ns, string plural)
    {
        if (!Known(plural, out var kind))
        {
            await WriteStatusAsync(context, HttpStatusCode.NotFound, "NotFound", $"the server could not find the requested resource ({plural})");
            return;
        }

        var query = context.Request.Query;
        var selector = LabelSelector.Parse(query["labelSelector"]);
        if (query["watch"] is { Count: > 0 } w && (w[0] == "true" || w[0] == "1"))
        {
            Record("watch", plural);
            await WatchAsync(context, kind, ns, selector);
            return;
        }

        Record("list", plural);
        var (items, rv) = _store.List(kind, ns, selector);
        var list = new JsonObject
        {
            ["kind"] = kind.Kind + "List",
            ["apiVersion"] = "v1",
            ["metadata"] = new JsonObject { ["resourceVersion"] = rv.ToString(CultureInfo.InvariantCulture) },
            ["items"] = new JsonArray([.. items.Select(ObjectStore.ToNode)]),
        };
        await WriteJsonAsync(context, HttpStatusCode.OK, list);
    }

    private async Task WatchAsync(HttpContext context, ResourceKind kind, string ns, LabelSelector selector)
    {
        var query = context.Request.Query;
        var bookmarks = query["allowWatchBookmarks"] == "true";
        var timeout = int.TryParse(query["timeoutSeconds"], CultureInfo.InvariantCulture, out var t) ? TimeSpan.FromSeconds(t) : TimeSpan.FromMinutes(30);
        var from = query["resourceVersion"].ToString();
        context.Response.StatusCode = 200;
        context.Response.ContentType = "application/json";
        await context.Response.StartAsync();

        // No resourceVersion (or "0"): the current objects as ADDED events first, then the changes after them.
        long start;
        var initial = new List<IKubernetesObject<V1ObjectMeta>>();
        if (string.IsNullOrEmpty(from) || from == "0")
        {
            (initial, start) = _store.List(kind, ns, selector);
        }
        else if (!long.TryParse(from, CultureInfo.InvariantCulture, out start))
        {
            await WriteLineAsync(context, new JsonObject { ["type"] = "ERROR", ["object"] = Status(HttpStatusCode.BadRequest, "BadRequest", $"invalid resourceVersion {from}") });
            return;
        }

        var watch = _store.Watch(start);
        if (watch is not { } opened)
        {
            await WriteLineAsync(context, new JsonObject
            {
                ["type"] = "ERROR",
                ["object"] = Status(HttpStatusCode.Gone, "Expired", $"too old resource version: {start}"),
            });
            return;
        }

        using var limit = CancellationTokenSource.CreateLinkedTokenSource(context.RequestAborted);
        limit.CancelAfter(timeout);
        try
        {
            foreach (var o in initial)
            {
                await WriteLineAsync(context, new JsonObject { ["type"] = "ADDED", ["object"] = ObjectStore.ToNode(o) });
            }

            foreach (var e in opened.Backlog)
            {
                await WriteEventAsync(context, e, kind, ns, selector);
            }

            // One read outstanding at a time: a read left behind when a bookmark goes first would take the next event
            // and drop it.
            Task<WatchEvent>? next = null;
            while (!limit.IsCancellationRequested)
            {
                next ??= opened.Live.Reader.ReadAsync(limit.Token).AsTask();
                var ready = bookmarks ? await Task.WhenAny(next, Task.Delay(TimeSpan.FromSeconds(1), limit.Token)) : next;
                if (ready == next)
                {
                    var e = await next;
                    next = null;
                    await WriteEventAsync(context, e, kind, ns, selector);
                    continue;
                }

                await WriteLineAsync(context, new JsonObject
                {
                    ["type"] = "BOOKMARK",
                    ["object"] = new JsonObject
                    {
                        ["kind"] = kind.Kind,
                        ["apiVersion"] = "v1",
                        ["metadata"] = new JsonObject { ["resourceVersion"] = _store.ResourceVersion.ToString(CultureInfo.InvariantCulture) },
                    },
                });
            }
        }
        catch (Exception e) when (e is OperationCanceledException or System.Threading.Channels.ChannelClosedException)
        {
            // Timed out, dropped by DropWatches, or the client went away: the watch ends, as a server's does.
        }
        finally
        {
            _store.Unwatch(opened.Live);
        }
    }

    private static async Task WriteEventAsync(HttpContext context, WatchEvent e, ResourceKind kind, string ns, LabelSelector selector)
    {
        if (e.Kind == kind && e.Namespace == ns && selector.Matches(e.Object.Metadata.Labels))
        {
            await WriteLineAsync(context, new JsonObject { ["type"] = e.Type, ["object"] = ObjectStore.ToNode(e.Object) });
        }
    }

    private static async Task WriteLineAsync(HttpContext context, JsonNode line)
    {
        await context.Response.WriteAsync(line.ToJsonString() + "\n", context.RequestAborted);
        await context.Response.Body.FlushAsync(context.RequestAborted);
    }

    private async Task CreateAsync(HttpContext context, string ns, string plural)
    {
        if (!Known(plural, out var kind))
        {
            await WriteStatusAsync(context, HttpStatusCode.NotFound, "NotFound", $"the server could not find the requested resource ({plural})");
            return;
        }

        Record("create", plural);
        var obj = await ReadBodyAsync(context, kind);
        if (obj?.Metadata?.Name is not { Length: > 0 } name)
        {
            await WriteStatusAsync(context, HttpStatusCode.UnprocessableEntity, "Invalid", $"{kind.Kind} \"\" is invalid: metadata.name: Required value");
            return;
        }

        if (Validate(kind, obj) is { } invalid)
        {
            await WriteStatusAsync(context, HttpStatusCode.UnprocessableEntity, "Invalid", $"{kind.Kind} \"{name}\" is invalid: {invalid}");
            return;
        }

        Defaults(kind, obj);
        if (!_store.TryCreate(kind, ns, obj))
        {
            await WriteStatusAsync(context, HttpStatusCode.Conflict, "AlreadyExists", $"{plural} \"{name}\" already exists");
            return;
        }

        if (kind == ResourceKind.Pods)
        {
            _runner.Start(ns, name);
        }

        await WriteJsonAsync(context, HttpStatusCode.Created, ObjectStore.ToNode(_store.Get<IKubernetesObject<V1ObjectMeta>>(kind, ns, name)!));
    }

    private async Task GetAsync(HttpContext context, string ns, string plural, string name)
    {
        if (!Known(plural, out var kind))
        {
            await WriteStatusAsync(context, HttpStatusCode.NotFound, "NotFound", $"the server could not find the requested resource ({plural})");
            return;
        }

        Record("get", plural);
        if (_store.Get<IKubernetesObject<V1ObjectMeta>>(kind, ns, name) is { } found)
        {
            await WriteJsonAsync(context, HttpStatusCode.OK, ObjectStore.ToNode(found));
            return;
        }

        await WriteStatusAsync(context, HttpStatusCode.NotFound, "NotFound", $"{plural} \"{name}\" not found");
    }

    private async Task ReplaceAsync(HttpContext context, string ns, string plural, string name)
    {
        if (!Known(plural, out var kind) || kind == ResourceKind.Pods)
        {
            await WriteStatusAsync(context, HttpStatusCode.MethodNotAllowed, "MethodNotAllowed", $"the stand-in does not replace {plural}");
            return;
        }

        Record("update", plural);
        var obj = await ReadBodyAsync(context, kind);
        if (obj?.Metadata is null)
        {
            await WriteStatusAsync(context, HttpStatusCode.BadRequest, "BadRequest", "no object in the body");
            return;
        }

        Defaults(kind, obj);
        var outcome = _store.TryReplace(kind, ns, name, _ => obj, obj.Metadata.ResourceVersion ?? "");
        switch (outcome)
        {
            case ReplaceOutcome.NotFound:
                await WriteStatusAsync(context, HttpStatusCode.NotFound, "NotFound", $"{plural} \"{name}\" not found");
                return;
            case ReplaceOutcome.Conflict:
                await WriteStatusAsync(context, HttpStatusCode.Conflict, "Conflict",
                    $"Operation cannot be fulfilled on {plural} \"{name}\": the object has been modified; please apply your changes to the latest version and try again");
                return;
        }

        await WriteJsonAsync(context, HttpStatusCode.OK, ObjectStore.ToNode(_store.Get<IKubernetesObject<V1ObjectMeta>>(kind, ns, name)!));
    }

    private async Task DeleteAsync(HttpContext context, string ns, string plural, string name)
    {
        if (!Known(plural, out var kind))
        {
            await WriteStatusAsync(context, HttpStatusCode.NotFound, "NotFound", $"the server could not find the requested resource ({plural})");
            return;
        }

        Record("delete", plural);
        var current = _store.Get<IKubernetesObject<V1ObjectMeta>>(kind, ns, name);
        if (current is null)
        {
            await WriteStatusAsync(context, HttpStatusCode.NotFound, "NotFound", $"{plural} \"{name}\" not found");
            return;
        }

        if (kind == ResourceKind.Pods)
        {
            var grace = int.TryParse(context.Request.Query["gracePeriodSeconds"], CultureInfo.InvariantCulture, out var g)
                ? g
                : (int)(((V1Pod)current).Spec.TerminationGracePeriodSeconds ?? 30);
            var terminating = _runner.Delete(ns, name, TimeSpan.FromSeconds(Math.Max(0, grace)));
            await WriteJsonAsync(context, HttpStatusCode.OK, ObjectStore.ToNode(terminating ?? current));
            return;
        }

        var gone = _store.Remove(kind, ns, name);
        if (kind == ResourceKind.Claims && gone is not null)
        {
            await _runner.RemoveClaimAsync(ns, name);
        }

        if (kind == ResourceKind.Secrets)
        {
            await WriteJsonAsync(context, HttpStatusCode.OK, new JsonObject { ["kind"] = "Status", ["apiVersion"] = "v1", ["status"] = "Success" });
            return;
        }

        await WriteJsonAsync(context, HttpStatusCode.OK, ObjectStore.ToNode(gone ?? current));
    }

    private async Task ExecAsync(HttpContext context, string ns, string name)
    {
        // Since Kubernetes 1.30 a WebSocket exec is authorized as "create" on pods/exec.
        Record("create", "pods/exec");
        await PodExec.ServeAsync(context, _runner, _store, ns, name);
    }

    private static string? Validate(ResourceKind kind, IKubernetesObject<V1ObjectMeta> obj)
    {
        var name = obj.Metadata.Name;
        var dnsSubdomain = System.Text.RegularExpressions.Regex.IsMatch(name, "^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$") && name.Length <= 253;
        if (!dnsSubdomain || (kind == ResourceKind.Services && (name.Length > 63 || name.Contains('.'))))
        {
            return $"metadata.name: Invalid value: \"{name}\"";
        }

        foreach (var (key, value) in obj.Metadata.Labels ?? new Dictionary<string, string>())
        {
            if (value.Length > 63 || !System.Text.RegularExpressions.Regex.IsMatch(value, "^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$"))
            {
                return $"metadata.labels: Invalid value: \"{value}\" (label {key})";
            }
        }

        if (obj is V1Pod pod && (pod.Spec?.Containers is not { Count: > 0 } || pod.Spec.Containers.Any(c => string.IsNullOrEmpty(c.Image))))
        {
            return "spec.containers: Required value";
        }

        return null;
    }

    private void Defaults(ResourceKind kind, IKubernetesObject<V1ObjectMeta> obj)
    {
        obj.Metadata.Labels ??= new Dictionary<string, string>();
        obj.Metadata.Annotations ??= new Dictionary<string, string>();
        switch (obj)
        {
            case V1Pod pod:
                pod.Status = new V1PodStatus { Phase = "Pending" };
                break;
            case V1PersistentVolumeClaim claim:
                claim.Status = new V1PersistentVolumeClaimStatus { Phase = "Bound" };
                break;
            case V1Service service:
                service.Spec.ClusterIP ??= $"10.96.{Random.Shared.Next(0, 255)}.{Random.Shared.Next(1, 255)}";
                if (service.Spec.Type == "NodePort")
                {
                    foreach (var port in service.Spec.Ports ?? [])
                    {
                        port.NodePort ??= FreeLoopbackPort();
                    }
                }

                break;
            case V1Secret secret when secret.StringData is { Count: > 0 } text:
                secret.Data ??= new Dictionary<string, byte[]>();
                foreach (var (k, v) in text)
                {
                    secret.Data[k] = Encoding.UTF8.GetBytes(v);
                }

                secret.StringData = null;
                break;
        }
    }

    /// <summary>A node port: a free port on loopback, where the pod's container is published.</summary>
    private static int FreeLoopbackPort()
    {
        using var socket = new System.Net.Sockets.TcpListener(IPAddress.Loopback, 0);
        socket.Start();
        return ((IPEndPoint)socket.LocalEndpoint).Port;
    }

    private static async Task<IKubernetesObject<V1ObjectMeta>?> ReadBodyAsync(HttpContext context, ResourceKind kind)
    {
        using var reader = new StreamReader(context.Request.Body, Encoding.UTF8);
        var json = await reader.ReadToEndAsync(context.RequestAborted);
        return kind.Plural switch
        {
            "pods" => KubernetesJson.Deserialize<V1Pod>(json),
            "services" => KubernetesJson.Deserialize<V1Service>(json),
            "secrets" => KubernetesJson.Deserialize<V1Secret>(json),
            _ => KubernetesJson.Deserialize<V1PersistentVolumeClaim>(json),
        };
    }

    internal static JsonObject Status(HttpStatusCode code, string reason, string message) => new()
    {
        ["kind"] = "Status",
        ["apiVersion"] = "v1",
        ["metadata"] = new JsonObject(),
        ["status"] = "Failure",
        ["message"] = message,
        ["reason"] = reason,
        ["code"] = (int)code,
    };

    internal static Task WriteStatusAsync(HttpContext context, HttpStatusCode code, string reason, string message) =>
        WriteJsonAsync(context, code, Status(code, reason, message));

    private static async Task WriteJsonAsync(HttpContext context, HttpStatusCode code, JsonNode body)
    {
        context.Response.StatusCode = (int)code;
        context.Response.ContentType = "application/json";
        await context.Response.WriteAsync(body.ToJsonString(), context.RequestAborted);
    }
}
