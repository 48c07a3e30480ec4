using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace CloudDevEnv.LocalStorage;

/// <summary>Registers <see cref="FileReminderTable"/> the way Orleans 10 registers its in-memory table
/// (<c>UseInMemoryReminderService</c>): the reminder service through <c>AddReminders()</c> plus the table as
/// the <see cref="IReminderTable"/> singleton. The reminder service itself starts and stops the table.</summary>
public static class FileReminderSiloBuilderExtensions
{
    public static ISiloBuilder UseFileReminderService(this ISiloBuilder builder, Action<FileStorageOptions> configure)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(configure);

        builder.AddReminders();
        var services = builder.Services;
        services.AddOptions<FileStorageOptions>(FileReminderTable.OptionsName).Configure(configure).ValidateOnStart();
        services.AddFileStorageOptionsValidation();
        services.AddSingleton<IReminderTable>(static provider => new FileReminderTable(
            provider.GetRequiredService<IOptionsMonitor<FileStorageOptions>>().Get(FileReminderTable.OptionsName),
            provider.GetRequiredService<ILogger<FileReminderTable>>()));
        return builder;
    }
}
