using System.Collections.Concurrent;
using System.Net;
using k8s;
using k8s.Autorest;
using k8s.Models;
using Microsoft.Extensions.Logging;

namespace CloudDevEnv.Runtime.Kubernetes;

/// <summary>How the pod watch has fared: lists made (the first, and one after each <c>410 Gone</c>), watches resumed from
/// their resourceVersion after they dropped, and events seen.</summary>
public sealed record PodWatchCounters(int Lists, int Resumes, int Expired, long Events, long Bookmarks);

/// <summary>The platform's pods as the API server last said, kept by one list and a watch from its resourceVersion (an
/// informer): a pod's status is read from here, not asked for on every call. A watch that ends is resumed from the last
/// resourceVersion it delivered (bookmarks keep that recent); one the server no longer has (<c>410 Gone</c>) is replaced by a
/// new list.</summary>
internal sealed partial class PodWatch(IKubernetes client, string ns, string selector, ILogger logger) : IDisposable
{
    private static readonly TimeSpan SyncTimeout = TimeSpan.FromSeconds(30);
    private static readonly TimeSpan RetryDelay = TimeSpan.FromSeconds(1);

    private readonly ConcurrentDictionary<string, V1Pod> _pods = new(StringComparer.Ordinal);
    private readonly TaskCompletionSource _synced = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly CancellationTokenSource _stop = new();
    private readonly Lock _gate = new();
    private TaskCompletionSource _changed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private Task? _loop;
    private int _lists;
    private int _resumes;
    private int _expired;
    private long _events;
    private long _bookmarks;

    public PodWatchCounters Counters => new(_lists, _resumes, _expired, Interlocked.Read(ref _events), Interlocked.Read(ref _bookmarks));

    /// <summary>The pod as last seen, once the first list is in.</summary>
    public async Task<V1Pod?> GetAsync(string name, CancellationToken ct)
    {
        await SyncedAsync(ct);
        return _pods.TryGetValue(name, out var pod) ? pod : null;
    }

    /// <summary>Waits until <paramref name="done"/> holds for the pod (null: there is none), or <paramref name="timeout"/> passes;
    /// returns the pod as last seen either way.</summary>
    public async Task<(bool Done, V1Pod? Pod)> WaitAsync(string name, Func<V1Pod?, bool> done, TimeSpan timeout, CancellationToken ct)
    {
        await SyncedAsync(ct);
        using var limit = CancellationTokenSource.CreateLinkedTokenSource(ct);
        limit.CancelAfter(timeout);
        while (true)
        {
            Task changed;
            lock (_gate)
            {
                changed = _changed.Task;
            }

            var pod = _pods.TryGetValue(name, out var p) ? p : null;
            if (done(pod))
            {
                return (true, pod);
            }

            try
            {
                await changed.WaitAsync(limit.Token);
            }
            catch (OperationCanceledException) when (!ct.IsCancellationRequested)
            {
                return (false, _pods.TryGetValue(name, out var last) ? last : null);
            }
        }
    }

    /// <summary>What a create or delete of ours returned, taken in at once (the watch brings it a moment later).</summary>
    public void Observe(V1Pod pod, bool deleted = false)
    {
        var name = pod.Metadata?.Name;
        if (name is null)
        {
            return;
        }

        if (deleted)
        {
            _pods.TryRemove(name, out _);
        }
        else
        {
            _pods.AddOrUpdate(name, pod, (_, seen) => IsNewer(pod, seen) ? pod : seen);
        }

        Signal();
    }

    private Task SyncedAsync(CancellationToken ct)
    {
        lock (_gate)
        {
            _loop ??= Task.Run(() => RunAsync(_stop.Token));
        }

        return _synced.Task.IsCompleted ? _synced.Task : AwaitSyncAsync(ct);
    }

    private async Task AwaitSyncAsync(CancellationToken ct)
    {
        try
        {
            await _synced.Task.WaitAsync(SyncTimeout, ct);
        }
        catch (TimeoutException e)
        {
            throw new WorkspaceRuntimeException($"The Kubernetes API did not list the pods of namespace {ns} within {SyncTimeout.TotalSeconds:0}s.", isPermanent: false, e);
        }
    }

    private async Task RunAsync(CancellationToken stop)
    {
        string? resourceVersion = null;
        while (!stop.IsCancellationRequested)
        {
            try
            {
                if (resourceVersion is null)
                {
                    resourceVersion = await ListAsync(stop);
                }

                var expired = false;
                var events = client.CoreV1.WatchListNamespacedPodAsync(
                    ns, allowWatchBookmarks: true, labelSelector: selector, resourceVersion: resourceVersion, timeoutSeconds: 300,
                    onError: e => expired |= IsExpired(e), cancellationToken: stop);
                await foreach (var (type, pod) in events)
                {
                    Interlocked.Increment(ref _events);
                    if (pod.Metadata?.ResourceVersion is { Length: > 0 } seen)
                    {
                        resourceVersion = seen;
                    }

                    switch (type)
                    {
                        case WatchEventType.Added or WatchEventType.Modified:
                            _pods[pod.Metadata!.Name] = pod;
                            break;
                        case WatchEventType.Deleted:
                            _pods.TryRemove(pod.Metadata!.Name, out _);
                            break;
                        case WatchEventType.Bookmark:
                            Interlocked.Increment(ref _bookmarks);
                            continue;
                    }

                    Signal();
                }

                if (expired)
                {
                    Interlocked.Increment(ref _expired);
                    LogExpired(logger, ns, resourceVersion);
                    resourceVersion = null;
                    continue;
                }

                Interlocked.Increment(ref _resumes);
            }
            catch (OperationCanceledException) when (stop.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e) when (IsExpired(e))
            {
                Interlocked.Increment(ref _expired);
                LogExpired(logger, ns, resourceVersion);
                resourceVersion = null;
            }
            catch (Exception e)
            {
                Interlocked.Increment(ref _resumes);
                LogWatchFailed(logger, e, ns);
                try
                {
                    await Task.Delay(RetryDelay, stop);
                }
                catch (OperationCanceledException)
                {
                    return;
                }
            }
        }
    }

    private async Task<string> ListAsync(CancellationToken stop)
    {
        var list = await client.CoreV1.ListNamespacedPodAsync(ns, labelSelector: selector, cancellationToken: stop);
        var names = new HashSet<string>(StringComparer.Ordinal);
        foreach (var pod in list.Items ?? [])
        {
            names.Add(pod.Metadata.Name);
            _pods[pod.Metadata.Name] = pod;
        }

        foreach (var gone in _pods.Keys.Where(k => !names.Contains(k)).ToList())
        {
            _pods.TryRemove(gone, out _);
        }

        Interlocked.Increment(ref _lists);
        _synced.TrySetResult();
        Signal();
        return list.Metadata?.ResourceVersion ?? "0";
    }

    private static bool IsExpired(Exception e) => e switch
    {
        KubernetesException k => k.Status?.Code == (int)HttpStatusCode.Gone,
        HttpOperationException h => h.Response.StatusCode == HttpStatusCode.Gone,
        _ => false,
    };

    private static bool IsNewer(V1Pod candidate, V1Pod seen) =>
        !long.TryParse(candidate.Metadata?.ResourceVersion, out var a) || !long.TryParse(seen.Metadata?.ResourceVersion, out var b) || a >= b;

    private void Signal()
    {
        TaskCompletionSource fired;
        lock (_gate)
        {
            fired = _changed;
            _changed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        }

        fired.TrySetResult();
    }

    public void Dispose()
    {
        _stop.Cancel();
        try
        {
            _loop?.Wait(TimeSpan.FromSeconds(5));
        }
        catch (AggregateException)
        {
        }

        _stop.Dispose();
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "The pod watch of namespace {Namespace} is past what the server keeps (410 Gone after resourceVersion {ResourceVersion}): listing anew")]
    private static partial void LogExpired(ILogger logger, string @namespace, string? resourceVersion);

    [LoggerMessage(Level = LogLevel.Warning, Message = "The pod watch of namespace {Namespace} failed; resuming")]
    private static partial void LogWatchFailed(ILogger logger, Exception exception, string @namespace);
}
