using System.ComponentModel.DataAnnotations;
using Microsoft.Extensions.Options;

namespace CloudDevEnv.LocalStorage.Snapshots;

/// <summary>Fails the host at start-up when the snapshot folder is not configured or cannot be written, rather than at
/// the first stop of a workspace, whose files would then be lost with its container.</summary>
internal sealed class LocalFolderSnapshotOptionsValidator : IValidateOptions<LocalFolderSnapshotOptions>
{
    public ValidateOptionsResult Validate(string? name, LocalFolderSnapshotOptions options)
    {
        var results = new List<ValidationResult>();
        if (!Validator.TryValidateObject(options, new ValidationContext(options), results, validateAllProperties: true))
        {
            return ValidateOptionsResult.Fail(results.Select(r => $"{LocalFolderSnapshotOptions.SectionName}: {r.ErrorMessage}"));
        }

        if (string.IsNullOrWhiteSpace(options.Directory))
        {
            return ValidateOptionsResult.Fail($"{LocalFolderSnapshotOptions.SectionName}:{nameof(LocalFolderSnapshotOptions.Directory)} is required.");
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
                $"{LocalFolderSnapshotOptions.SectionName}:{nameof(LocalFolderSnapshotOptions.Directory)} '{options.Directory}' cannot be created or written: {e.Message}");
        }
    }
}
