using System.ComponentModel.DataAnnotations;
using CloudDevEnv.Platform;

namespace CloudDevEnv.Grains.Secrets;

/// <summary>The key that seals workspace secrets in grain storage, bound from the <c>Secrets</c> section: <c>Key</c>
/// (base64 of 32 bytes, the same on every silo) or <c>KeyFile</c> (kept beside the grain state in local mode). With
/// neither, a launch that brings secrets is refused and says why.</summary>
public sealed class SecretOptions : IValidatableObject
{
    public const string SectionName = "Secrets";

    public string? Key { get; set; }

    public string? KeyFile { get; set; }

    public bool IsConfigured => !string.IsNullOrWhiteSpace(Key) || !string.IsNullOrWhiteSpace(KeyFile);

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        if (!string.IsNullOrWhiteSpace(Key))
        {
            if (KeyMaterial.Problem(Key, "Secrets:Key") is { } problem)
            {
                yield return new ValidationResult(problem);
            }
        }
    }
}
