using System.Text.Json;
using Orleans.TestingHost;

namespace CloudDevEnv.LocalStorage.Tests;

/// <summary>A silo wired as local mode wires it: state and reminders written by one cluster are there
/// for the next one on the same folder.</summary>
public sealed class ClusterRestartTests : IDisposable
{
    public const string StorageName = "local";

    private readonly TempDirectory _directory = new();

    public void Dispose() => _directory.Dispose();

    private InProcessTestCluster Build()
    {
        var builder = new InProcessTestClusterBuilder(1);
        builder.ConfigureSilo((_, silo) =>
        {
            silo.AddFileGrainStorage(StorageName, options => options.Directory = _directory.Path);
            silo.AddFileGrainStorageAsDefault(options => options.Directory = _directory.Path);
            silo.UseFileReminderService(options => options.Directory = _directory.Path);
            silo.Configure<Orleans.Hosting.ReminderOptions>(options => options.MinimumReminderPeriod = TimeSpan.FromSeconds(1));
        });
        return builder.Build();
    }

    [Fact]
    public async Task State_and_reminders_survive_a_restart_of_the_cluster()
    {
        var key = "owner/" + Guid.NewGuid().ToString("N");

        await using (var first = Build())
        {
            await first.DeployAsync();
            var grain = first.Client.GetGrain<IRestartProbeGrain>(key);
            await grain.Increment();
            Assert.Equal((2, 20), await grain.Increment());
            await grain.StartReminder(dueTime: TimeSpan.FromSeconds(1), period: TimeSpan.FromSeconds(1));
        }

        Assert.True(File.Exists(Path.Combine(_directory.Path, "reminders.json")));
        RestartProbeGrain.Ticks.TryRemove(key, out _);
        var leftover = Path.Combine(_directory.Path, "grains", "probe", ".interrupted.json.0123.tmp");
        await File.WriteAllTextAsync(leftover, "{\"half\":");

        await using (var second = Build())
        {
            await second.DeployAsync();
            var grain = second.Client.GetGrain<IRestartProbeGrain>(key);

            Assert.False(File.Exists(leftover), "the silo's start did not sweep temporary files");
            Assert.Equal((2, 20), await grain.Read());
            Assert.True(await grain.HasReminder());

            // Only the reminder service of the new silo, which loaded the table from the file, can tick now.
            var deadline = DateTime.UtcNow.AddSeconds(15);
            while (!RestartProbeGrain.Ticks.ContainsKey(key) && DateTime.UtcNow < deadline)
            {
                await Task.Delay(100);
            }

            Assert.True(RestartProbeGrain.Ticks.ContainsKey(key), "the reminder did not tick after the restart");
            await grain.StopReminder();
            Assert.Equal((3, 30), await grain.Increment());
        }

        using var reminders = JsonDocument.Parse(await File.ReadAllBytesAsync(Path.Combine(_directory.Path, "reminders.json")));
        Assert.Equal(0, reminders.RootElement.GetProperty("reminders").GetArrayLength());
        Assert.Single(Directory.GetFiles(Path.Combine(_directory.Path, "grains", "probe")));
        Assert.Single(Directory.GetFiles(Path.Combine(_directory.Path, "grains", "probe-default")));
    }

    [Fact]
    public async Task A_silo_without_a_data_folder_does_not_start()
    {
        var builder = new InProcessTestClusterBuilder(1);
        builder.ConfigureSilo((_, silo) => silo.AddFileGrainStorageAsDefault(options => options.Directory = ""));
        await using var cluster = builder.Build();

        var error = await Record.ExceptionAsync(() => cluster.DeployAsync());

        Assert.NotNull(error);
        Assert.Contains("Directory is required", error.ToString());
    }
}
