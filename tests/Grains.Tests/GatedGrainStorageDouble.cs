using System.Collections.Concurrent;
using Orleans.Serialization;
using Orleans.Storage;

namespace CloudDevEnv.Grains.Tests;

/// <summary>A test double of grain storage, in memory: a test can make one grain's writes fail (a full disk) or hold one
/// write until it says so, to put a command exactly where a race needs it.</summary>
public sealed class GatedGrainStorageDouble(Serializer serializer, GatedGrainStorageDouble.Store store) : IGrainStorage
{
    /// <summary>What the double keeps, shared by the silos of a cluster.</summary>
    public sealed class Store
    {
        internal ConcurrentDictionary<string, (string ETag, byte[] Data)> Records { get; } = new();

        internal ConcurrentDictionary<string, byte> Failing { get; } = new();

        /// <summary>The state last stored for a grain key, as read back from what was written.</summary>
        public ConcurrentDictionary<string, object> Stored { get; } = new();

        internal ConcurrentDictionary<string, (TaskCompletionSource Entered, TaskCompletionSource Release)> Held { get; } = new();

        /// <summary>Writes of the grain whose key is <paramref name="grainKey"/> throw an <see cref="IOException"/> until healed.</summary>
        public void FailWrites(string grainKey) => Failing[grainKey] = 0;

        public void Heal(string grainKey) => Failing.TryRemove(grainKey, out _);

        /// <summary>Holds the next write of the grain: the first task completes when it has begun (its state already
        /// taken), the second lets it finish.</summary>
        public (Task Entered, TaskCompletionSource Release) HoldNextWrite(string grainKey)
        {
            var held = (new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously), new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously));
            Held[grainKey] = held;
            return (held.Item1.Task, held.Item2);
        }
    }

    public Task ReadStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState)
    {
        if (store.Records.TryGetValue(Key(stateName, grainId), out var record))
        {
            grainState.State = serializer.Deserialize<T>(record.Data);
            grainState.ETag = record.ETag;
            grainState.RecordExists = true;
        }

        return Task.CompletedTask;
    }

    public async Task WriteStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState)
    {
        var grainKey = grainId.Key.ToString()!;
        if (store.Failing.ContainsKey(grainKey))
        {
            throw new IOException("No space left on device (a test double's full disk).");
        }

        var data = serializer.SerializeToArray(grainState.State);
        if (store.Held.TryRemove(grainKey, out var held))
        {
            held.Entered.TrySetResult();
            await held.Release.Task;
        }

        var etag = Guid.NewGuid().ToString("N");
        store.Records[Key(stateName, grainId)] = (etag, data);
        store.Stored[grainKey] = serializer.Deserialize<T>(data)!;
        grainState.ETag = etag;
        grainState.RecordExists = true;
    }

    public Task ClearStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState)
    {
        store.Records.TryRemove(Key(stateName, grainId), out _);
        grainState.ETag = null;
        grainState.RecordExists = false;
        return Task.CompletedTask;
    }

    private static string Key(string stateName, GrainId grainId) => $"{stateName}/{grainId}";
}
