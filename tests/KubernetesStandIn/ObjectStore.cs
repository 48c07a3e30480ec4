using System.Text.Json.Nodes;
using System.Threading.Channels;
using k8s;
using k8s.Models;

namespace CloudDevEnv.KubernetesStandIn;

/// <summary>One kind of object the stand-in serves (its plural in URLs, its model and list kinds).</summary>
internal sealed record ResourceKind(string Plural, string Kind, Type Model)
{
    public static readonly ResourceKind Pods = new("pods", "Pod", typeof(V1Pod));
    public static readonly ResourceKind Services = new("services", "Service", typeof(V1Service));
    public static readonly ResourceKind Secrets = new("secrets", "Secret", typeof(V1Secret));
    public static readonly ResourceKind Claims = new("persistentvolumeclaims", "PersistentVolumeClaim", typeof(V1PersistentVolumeClaim));
    public static readonly IReadOnlyList<ResourceKind> All = [Pods, Services, Secrets, Claims];
}

/// <summary>A change, as a watch delivers it.</summary>
internal sealed record WatchEvent(long ResourceVersion, string Type, ResourceKind Kind, string Namespace, IKubernetesObject<V1ObjectMeta> Object);

/// <summary>The stand-in's objects with Kubernetes' bookkeeping: one resourceVersion counter for all, uids, creation
/// times, 409 on a create of a name taken and on a replace of a stale resourceVersion, and a bounded history of changes
/// from which watches are served (older than the history: 410 Gone).</summary>
internal sealed class ObjectStore
{
    private readonly Lock _gate = new();
    private readonly Dictionary<(string Plural, string Ns, string Name), IKubernetesObject<V1ObjectMeta>> _objects = [];
    private readonly List<WatchEvent> _history = [];
    private readonly List<Channel<WatchEvent>> _watchers = [];
    private long _resourceVersion = 1000;
    private long _floor = 1000;

    public long ResourceVersion
    {
        get
        {
            lock (_gate)
            {
                return _resourceVersion;
            }
        }
    }

    public T? Get<T>(ResourceKind kind, string ns, string name)
        where T : class, IKubernetesObject<V1ObjectMeta>
    {
        lock (_gate)
        {
            return _objects.TryGetValue((kind.Plural, ns, name), out var o) ? Clone((T)o) : null;
        }
    }

    public (List<IKubernetesObject<V1ObjectMeta>> Items, long ResourceVersion) List(ResourceKind kind, string ns, LabelSelector selector)
    {
        lock (_gate)
        {
            var items = _objects.Where(kv => kv.Key.Plural == kind.Plural && kv.Key.Ns == ns && selector.Matches(kv.Value.Metadata.Labels))
                .Select(kv => Clone(kv.Value)).ToList();
            return (items, _resourceVersion);
        }
    }

    /// <summary>Adds a new object; false when the name is taken.</summary>
    public bool TryCreate(ResourceKind kind, string ns, IKubernetesObject<V1ObjectMeta> obj)
    {
        lock (_gate)
        {
            var key = (kind.Plural, ns, obj.Metadata.Name);
            if (_objects.ContainsKey(key))
            {
                return false;
            }

            obj.Metadata.NamespaceProperty = ns;
            obj.Metadata.Uid = Guid.NewGuid().ToString();
            obj.Metadata.CreationTimestamp = DateTime.UtcNow;
            obj.Metadata.ResourceVersion = (++_resourceVersion).ToString(System.Globalization.CultureInfo.InvariantCulture);
            _objects[key] = Clone(obj);
            Publish("ADDED", kind, ns, obj);
            return true;
        }
    }

    /// <summary>Replaces an object. <paramref name="expectedResourceVersion"/> set and stale: false (409, Kubernetes'
    /// optimistic concurrency). Null: the stand-in's own controllers' unconditional status writes.</summary>
    public ReplaceOutcome TryReplace(ResourceKind kind, string ns, string name, Func<IKubernetesObject<V1ObjectMeta>, IKubernetesObject<V1ObjectMeta>> change, string? expectedResourceVersion)
    {
        lock (_gate)
        {
            if (!_objects.TryGetValue((kind.Plural, ns, name), out var current))
            {
                return ReplaceOutcome.NotFound;
            }

            if (expectedResourceVersion is { Length: > 0 } && expectedResourceVersion != current.Metadata.ResourceVersion)
            {
                return ReplaceOutcome.Conflict;
            }

            var next = change(Clone(current));
            next.Metadata.Name = name;
            next.Metadata.NamespaceProperty = ns;
            next.Metadata.Uid = current.Metadata.Uid;
            next.Metadata.CreationTimestamp = current.Metadata.CreationTimestamp;
            next.Metadata.DeletionTimestamp ??= current.Metadata.DeletionTimestamp;
            next.Metadata.ResourceVersion = (++_resourceVersion).ToString(System.Globalization.CultureInfo.InvariantCulture);
            _objects[(kind.Plural, ns, name)] = Clone(next);
            Publish("MODIFIED", kind, ns, next);
            return ReplaceOutcome.Replaced;
        }
    }

    public IKubernetesObject<V1ObjectMeta>? Remove(ResourceKind kind, string ns, string name)
    {
        lock (_gate)
        {
            if (!_objects.Remove((kind.Plural, ns, name), out var gone))
            {
                return null;
            }

            gone.Metadata.ResourceVersion = (++_resourceVersion).ToString(System.Globalization.CultureInfo.InvariantCulture);
            Publish("DELETED", kind, ns, gone);
            return Clone(gone);
        }
    }

    /// <summary>A watch from <paramref name="fromResourceVersion"/>: the changes after it (replayed from the history), then
    /// the new ones. Null when the history no longer reaches back that far (410 Gone).</summary>
    public (IReadOnlyList<WatchEvent> Backlog, Channel<WatchEvent> Live)? Watch(long fromResourceVersion)
    {
        lock (_gate)
        {
            if (fromResourceVersion < _floor)
            {
                return null;
            }

            var backlog = _history.Where(e => e.ResourceVersion > fromResourceVersion).ToList();
            var live = Channel.CreateUnbounded<WatchEvent>();
            _watchers.Add(live);
            return (backlog, live);
        }
    }

    public void Unwatch(Channel<WatchEvent> live)
    {
        lock (_gate)
        {
            _watchers.Remove(live);
        }
    }

    /// <summary>Ends every open watch, as an API server does on a restart or at a watch's timeout.</summary>
    public void DropWatches()
    {
        lock (_gate)
        {
            foreach (var w in _watchers)
            {
                w.Writer.TryComplete();
            }

            _watchers.Clear();
        }
    }

    /// <summary>Forgets the history (etcd's compaction): a watch resumed from before now gets 410 Gone.</summary>
    public void Compact()
    {
        lock (_gate)
        {
            // Other objects of a real cluster move the resourceVersion on all the time: compaction here is past every
            // version handed out so far, so a watch resumed from any of them is expired.
            _history.Clear();
            _floor = ++_resourceVersion;
        }
    }

    private void Publish(string type, ResourceKind kind, string ns, IKubernetesObject<V1ObjectMeta> obj)
    {
        var e = new WatchEvent(long.Parse(obj.Metadata.ResourceVersion, System.Globalization.CultureInfo.InvariantCulture), type, kind, ns, Clone(obj));
        _history.Add(e);
        if (_history.Count > 5000)
        {
            _floor = _history[1000].ResourceVersion;
            _history.RemoveRange(0, 1000);
        }

        foreach (var w in _watchers)
        {
            w.Writer.TryWrite(e);
        }
    }

    public static T Clone<T>(T obj)
        where T : class, IKubernetesObject<V1ObjectMeta>
    {
        var json = KubernetesJson.Serialize(obj);
        IKubernetesObject<V1ObjectMeta> copy = obj switch
        {
            V1Pod => KubernetesJson.Deserialize<V1Pod>(json),
            V1Service => KubernetesJson.Deserialize<V1Service>(json),
            V1Secret => KubernetesJson.Deserialize<V1Secret>(json),
            V1PersistentVolumeClaim => KubernetesJson.Deserialize<V1PersistentVolumeClaim>(json),
            _ => throw new NotSupportedException(obj.GetType().Name),
        };
        return (T)copy;
    }

    public static JsonNode ToNode(object obj) => JsonNode.Parse(KubernetesJson.Serialize(obj))!;
}

internal enum ReplaceOutcome
{
    Replaced,
    NotFound,
    Conflict,
}
