using Microsoft.Extensions.Logging;

namespace CloudDevEnv.LocalStorage;

public sealed partial class FileGrainStorage
{
    [LoggerMessage(Level = LogLevel.Trace, Message = "Wrote {StateName} of {GrainId}, version {Version}")]
    private partial void LogWritten(string stateName, GrainId grainId, long version);

    [LoggerMessage(Level = LogLevel.Trace, Message = "Cleared {StateName} of {GrainId}")]
    private partial void LogCleared(string stateName, GrainId grainId);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Refused to {Operation} {StateName} of {GrainId}: stored ETag {StoredETag}, grain's ETag {GrainETag}")]
    private partial void LogStale(string operation, string stateName, GrainId grainId, string? storedETag, string? grainETag);

    [LoggerMessage(Level = LogLevel.Error, Message = "Grain state file {Path} cannot be read")]
    private partial void LogUnreadable(Exception exception, string path);

    [LoggerMessage(Level = LogLevel.Information, Message = "Deleted {Count} temporary files left by an interrupted write under {Directory}")]
    private partial void LogTemporaryFilesDeleted(int count, string directory);
}
