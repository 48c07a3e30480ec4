using Microsoft.Extensions.Logging;

namespace CloudDevEnv.LocalStorage;

public sealed partial class FileReminderTable
{
    [LoggerMessage(Level = LogLevel.Information, Message = "Loaded {Count} reminders from {Path}")]
    private partial void LogLoaded(int count, string path);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Saved reminder {ReminderName} of {GrainId}")]
    private partial void LogUpserted(GrainId grainId, string reminderName);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Remove reminder {ReminderName} of {GrainId}: {Removed}")]
    private partial void LogRemoved(GrainId grainId, string reminderName, bool removed);

    [LoggerMessage(Level = LogLevel.Error, Message = "Reminder table {Path} cannot be read")]
    private partial void LogUnreadable(Exception exception, string path);

    [LoggerMessage(Level = LogLevel.Information, Message = "Deleted {Count} temporary files left by an interrupted write in {Directory}")]
    private partial void LogTemporaryFilesDeleted(int count, string directory);
}
