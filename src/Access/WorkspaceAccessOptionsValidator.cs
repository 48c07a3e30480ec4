using CloudDevEnv.Platform;
using Microsoft.Extensions.Options;

namespace CloudDevEnv.Access;

/// <summary>Checks what data annotations cannot: the signing key's source and size, and the platform's address.</summary>
internal sealed class WorkspaceAccessOptionsValidator : IValidateOptions<WorkspaceAccessOptions>
{
    public ValidateOptionsResult Validate(string? name, WorkspaceAccessOptions options)
    {
        var failures = new List<string>();
        if (!string.IsNullOrWhiteSpace(options.SigningKey))
        {
            if (KeyMaterial.Problem(options.SigningKey, "Proxy:SigningKey") is { } problem)
            {
                failures.Add(problem);
            }
        }
        else if (string.IsNullOrWhiteSpace(options.SigningKeyFile))
        {
            failures.Add("Set Proxy:SigningKey (base64, at least 32 bytes, shared by every API and proxy process) " +
                         "or Proxy:SigningKeyFile (a file the key is kept in, created when missing).");
        }

        if (!Uri.TryCreate(options.PlatformUrl, UriKind.Absolute, out var platform) || platform.Scheme is not ("http" or "https"))
        {
            failures.Add("Proxy:PlatformUrl must be an absolute http(s) URL: the API host where people sign in.");
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
