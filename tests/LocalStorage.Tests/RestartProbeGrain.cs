using System.Collections.Concurrent;

namespace CloudDevEnv.LocalStorage.Tests;

public interface IRestartProbeGrain : IGrainWithStringKey
{
    Task<(int Named, int Default)> Increment();

    Task<(int Named, int Default)> Read();

    Task StartReminder(TimeSpan dueTime, TimeSpan period);

    Task<bool> HasReminder();

    Task StopReminder();
}

[GenerateSerializer]
public sealed class ProbeState
{
    [Id(0)]
    public int Count { get; set; }
}

/// <summary>Keeps one state in the named file storage and one in the default one, and counts the ticks
/// of its reminder where the test can see them.</summary>
public sealed class RestartProbeGrain(
    [PersistentState("probe", ClusterRestartTests.StorageName)] IPersistentState<ProbeState> named,
    [PersistentState("probe-default")] IPersistentState<ProbeState> byDefault) : Grain, IRestartProbeGrain, IRemindable
{
    public const string ReminderName = "probe";

    public static ConcurrentDictionary<string, int> Ticks { get; } = new();

    public async Task<(int Named, int Default)> Increment()
    {
        named.State.Count++;
        byDefault.State.Count += 10;
        await named.WriteStateAsync();
        await byDefault.WriteStateAsync();
        return (named.State.Count, byDefault.State.Count);
    }

    public Task<(int Named, int Default)> Read() => Task.FromResult((named.State.Count, byDefault.State.Count));

    public Task StartReminder(TimeSpan dueTime, TimeSpan period) => this.RegisterOrUpdateReminder(ReminderName, dueTime, period);

    public async Task<bool> HasReminder() => await this.GetReminder(ReminderName) is not null;

    public async Task StopReminder()
    {
        if (await this.GetReminder(ReminderName) is { } reminder)
        {
            await this.UnregisterReminder(reminder);
        }
    }

    public Task ReceiveReminder(string reminderName, TickStatus status)
    {
        Ticks.AddOrUpdate(this.GetPrimaryKeyString(), 1, (_, count) => count + 1);
        return Task.CompletedTask;
    }
}
