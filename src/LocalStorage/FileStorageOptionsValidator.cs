using Microsoft.Extensions.Options;

namespace CloudDevEnv.LocalStorage;

/// <summary>Fails the host at start-up when the data folder is missing from the configuration or cannot
/// be written, rather than at the first grain write. Creating the folder here is deliberate: a fresh
/// install has none yet.</summary>
internal sealed class FileStorageOptionsValidator : IValidateOptions<FileStorageOptions>
{
    public ValidateOptionsResult Validate(string? name, FileStorageOptions options)
    {
        if (string.IsNullOrWhiteSpace(options.Directory))
        {
            return ValidateOptionsResult.Fail(
                $"{nameof(FileStorageOptions)} '{name}': {nameof(FileStorageOptions.Directory)} is required (the data folder, CDE_DATA_DIR).");
        }

        try
        {
            var directory = Path.GetFullPath(options.Directory);
            DurableFile.CreateDirectory(directory);
            DurableFile.ProbeWritable(directory);
            return ValidateOptionsResult.Success;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException or NotSupportedException)
        {
            return ValidateOptionsResult.Fail(
                $"{nameof(FileStorageOptions)} '{name}': the data folder '{options.Directory}' cannot be created or written: {e.Message}");
        }
    }
}
