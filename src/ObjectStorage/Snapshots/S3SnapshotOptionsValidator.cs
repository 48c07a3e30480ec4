using System.ComponentModel.DataAnnotations;
using Microsoft.Extensions.Options;

namespace CloudDevEnv.ObjectStorage.Snapshots;

/// <summary>Fails the host at start-up when the S3 store is not configured, rather than at the first stop of a
/// workspace, whose files would then be lost with its container. Every message names its configuration key.</summary>
internal sealed class S3SnapshotOptionsValidator : IValidateOptions<S3SnapshotOptions>
{
    private const string Section = S3SnapshotOptions.SectionName;

    public ValidateOptionsResult Validate(string? name, S3SnapshotOptions options)
    {
        var failures = new List<string>();
        var results = new List<ValidationResult>();
        if (!Validator.TryValidateObject(options, new ValidationContext(options), results, validateAllProperties: true))
        {
            failures.AddRange(results.Select(r => r.ErrorMessage ?? $"{Section}: {string.Join(", ", r.MemberNames)} is not valid."));
        }

        // [Required] also refuses white space alone, so what follows checks only values that are there.
        if (!string.IsNullOrWhiteSpace(options.ServiceUrl)
            && !(Uri.TryCreate(options.ServiceUrl, UriKind.Absolute, out var url) && (url.Scheme == Uri.UriSchemeHttp || url.Scheme == Uri.UriSchemeHttps) && url.Host.Length > 0))
        {
            failures.Add($"{Section}:{nameof(S3SnapshotOptions.ServiceUrl)} '{options.ServiceUrl}' must be an absolute http:// or https:// URL.");
        }

        if (!string.IsNullOrWhiteSpace(options.Bucket) && !IsBucketName(options.Bucket))
        {
            failures.Add($"{Section}:{nameof(S3SnapshotOptions.Bucket)} '{options.Bucket}' is not a bucket name: 3 to 63 lower-case letters, digits, '.' and '-', starting and ending with a letter or digit.");
        }

        var prefix = options.Prefix ?? "";
        if (prefix.Length > 0 && (!prefix.EndsWith('/') || prefix.StartsWith('/') || prefix.Contains("//", StringComparison.Ordinal)
            || prefix.Split('/').Any(s => s is "." or "..") || prefix.Any(char.IsControl)))
        {
            failures.Add($"{Section}:{nameof(S3SnapshotOptions.Prefix)} '{prefix}' must be empty or end with '/' (e.g. 'snapshots/'), without a leading '/', empty, '.' or '..' segments.");
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }

    private static bool IsBucketName(string bucket) =>
        bucket.Length is >= 3 and <= 63
        && bucket.All(c => char.IsAsciiLetterLower(c) || char.IsAsciiDigit(c) || c is '.' or '-')
        && char.IsAsciiLetterOrDigit(bucket[0]) && char.IsAsciiLetterOrDigit(bucket[^1])
        && !bucket.Contains("..", StringComparison.Ordinal);
}
