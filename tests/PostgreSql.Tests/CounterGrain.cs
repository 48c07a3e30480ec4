using System.Collections.Concurrent;

namespace CloudDevEnv.PostgreSql.Tests;

public interface ICounterGrain : IGrainWithStringKey
{
    Task<int> IncrementAsync();

    Task<int> GetAsync();

    /// <summary>The silo that holds the activation.</summary>
    Task<string> SiloAsync();

    Task DeactivateAsync();

    Task SetReminderAsync(bool on);
}

[GenerateSerializer]
public sealed class CounterState
{
    [Id(0)]
    public int Count { get; set; }
}

/// <summary>A grain with persisted state and a reminder: the least the platform's grains ask of the storage.</summary>
public sealed class CounterGrain(
    [PersistentState("counter", OrleansOnPostgresTests.StorageName)] IPersistentState<CounterState> state, ILocalSiloDetails silo)
    : Grain, ICounterGrain, IRemindable
{
    public const string ReminderName = "tick";

    public static ConcurrentDictionary<string, int> Ticks { get; } = new();

    public async Task<int> IncrementAsync()
    {
        state.State.Count++;
        await state.WriteStateAsync();
        return state.State.Count;
    }

    public Task<int> GetAsync() => Task.FromResult(state.State.Count);

    public Task<string> SiloAsync() => Task.FromResult(silo.SiloAddress.ToString());

    public Task DeactivateAsync()
    {
        DeactivateOnIdle();
        return Task.CompletedTask;
    }

    public async Task SetReminderAsync(bool on)
    {
        if (on)
        {
            await this.RegisterOrUpdateReminder(ReminderName, TimeSpan.FromSeconds(1), TimeSpan.FromMinutes(1));
        }
        else if (await this.GetReminder(ReminderName) is { } reminder)
        {
            await this.UnregisterReminder(reminder);
        }
    }

    public Task ReceiveReminder(string reminderName, TickStatus status)
    {
        Ticks.AddOrUpdate(this.GetPrimaryKeyString(), 1, (_, n) => n + 1);
        return Task.CompletedTask;
    }
}
