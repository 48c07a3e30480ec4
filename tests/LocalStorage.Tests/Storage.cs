using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Orleans.Serialization;
using Orleans.Storage;

namespace CloudDevEnv.LocalStorage.Tests;

/// <summary>Builds providers on a folder the way a silo would, with Orleans' default JSON serializer.</summary>
internal static class Storage
{
    public static IGrainStorageSerializer Json { get; } =
        new JsonGrainStorageSerializer(new OrleansJsonSerializer(Options.Create(new OrleansJsonSerializerOptions())));

    public static FileGrainStorage Grains(string directory, bool deleteStateOnClear = true, IGrainStorageSerializer? serializer = null) =>
        new("test", new FileStorageOptions
        {
            Directory = directory,
            DeleteStateOnClear = deleteStateOnClear,
            GrainStorageSerializer = serializer ?? Json,
        }, NullLogger<FileGrainStorage>.Instance);

    public static async Task<FileReminderTable> RemindersAsync(string directory)
    {
        var table = new FileReminderTable(new FileStorageOptions { Directory = directory }, NullLogger<FileReminderTable>.Instance);
        await table.StartAsync();
        return table;
    }
}

public sealed class Counter
{
    public int Count { get; set; }

    public string Note { get; set; } = "";
}
