using System.Text.RegularExpressions;

namespace CloudDevEnv.Grains.Workspaces;

/// <summary>Checks a requested spec and fills in the platform's defaults. Lives with the grain, so that
/// in-cluster tools calling the grain directly meet the same rules as the REST API.</summary>
public static partial class WorkspaceSpecValidator
{
    public static readonly TimeSpan MinIdleTimeout = TimeSpan.FromMinutes(1);
    public static readonly TimeSpan MaxIdleTimeout = TimeSpan.FromHours(24);

    public const int MaxDisplayNameLength = 64;

    /// <summary>Variables (and secrets, each) a workspace may be given; Codespaces allows 100 secrets of 48 KB.</summary>
    public const int MaxVariables = 100;

    public const int MaxVariableValueLength = 48 * 1024;

    /// <returns>The spec with every optional value set.</returns>
    /// <exception cref="WorkspaceRejectedException">With kind Invalid and the field at fault.</exception>
    public static WorkspaceSpec Normalize(WorkspaceSpec spec, WorkspaceOptions options, Provisioning.ProvisioningOptions provisioning)
    {
        if (!RepositoryUrl.TryParse(spec.RepoUrl, options.LocalRepoRoots, out _, out var error))
        {
            throw Invalid("repoUrl", error);
        }

        if (!OwnerName.IsValid(spec.Owner))
        {
            throw Invalid("owner", $"owner must be 1 to {OwnerName.MaxLength} letters, digits, '.', '_', '@' or '-', starting with a letter or digit.");
        }

        if (spec.Ref is not null && !GitRef.IsValid(spec.Ref))
        {
            throw Invalid("ref", "ref must be a branch or tag name (letters, digits, '.', '_', '-', '/' and '+'; not starting with '-').");
        }

        if (spec.Image is not null && !IsImageReference(spec.Image))
        {
            throw Invalid("image", "image must be an image reference such as 'registry.example.com/team/image:tag'.");
        }

        if (spec.Image is not null && ImagePolicy.Refusal(spec.Image, spec.Owner, options, provisioning) is { } refusal)
        {
            throw Invalid("image", refusal);
        }

        var idle = spec.IdleTimeout ?? options.DefaultIdleTimeout;
        if (idle < MinIdleTimeout || idle > MaxIdleTimeout)
        {
            throw Invalid("idleTimeoutMinutes", $"idleTimeoutMinutes must be between {MinIdleTimeout.TotalMinutes:0} and {MaxIdleTimeout.TotalMinutes:0}.");
        }

        if (spec.DisplayName is { } name && (name.Length is 0 or > MaxDisplayNameLength || name.Any(char.IsControl) || name.Trim() != name))
        {
            throw Invalid("displayName", $"displayName must be 1 to {MaxDisplayNameLength} characters, without control characters or surrounding spaces.");
        }

        if (spec.DevContainerPath is { } path && !DevContainerPath().IsMatch(path))
        {
            throw Invalid("devcontainerPath",
                "devcontainerPath must be .devcontainer/devcontainer.json, .devcontainer.json or .devcontainer/<name>/devcontainer.json.");
        }

        CheckVariables("environment", spec.Environment);

        var resources = spec.Resources ?? new ResourceLimits(options.DefaultCpus, options.DefaultMemoryBytes);
        if (resources.Cpus is <= 0 or > 64 || resources.MemoryBytes is < 64L * 1024 * 1024 or > 512L * 1024 * 1024 * 1024)
        {
            throw Invalid("resources", "resources must ask for 0 to 64 CPUs and 64 MiB to 512 GiB of memory.");
        }

        return spec with { IdleTimeout = idle, Resources = resources };
    }

    /// <summary>name[:tag][@digest], lower-case path components as the distribution spec allows, at most 255 characters.</summary>
    public static bool IsImageReference(string image) => image.Length <= 255 && ImageReference().IsMatch(image);

    /// <summary>Checks the secrets given with a create: named as variables are, none named like a variable of the spec.</summary>
    /// <exception cref="WorkspaceRejectedException">With kind Invalid and the field <c>secrets</c>.</exception>
    public static void CheckSecrets(IReadOnlyDictionary<string, string>? secrets, WorkspaceSpec spec)
    {
        CheckVariables("secrets", secrets);
        if (secrets is not null && spec.Environment is { } environment && secrets.Keys.FirstOrDefault(environment.ContainsKey) is { } both)
        {
            throw Invalid("secrets", $"{both} is both an environment variable and a secret; give it once.");
        }
    }

    /// <summary>Environment variable names as POSIX shells take them; <c>CDE_</c> is the platform's own.</summary>
    private static void CheckVariables(string field, IReadOnlyDictionary<string, string>? variables)
    {
        if (variables is null)
        {
            return;
        }

        if (variables.Count > MaxVariables)
        {
            throw Invalid(field, $"{field} may hold at most {MaxVariables} variables.");
        }

        foreach (var (name, value) in variables)
        {
            if (!VariableName().IsMatch(name))
            {
                throw Invalid(field, $"'{Shown(name)}' is not a variable name: letters, digits and '_', not starting with a digit, at most 128 characters.");
            }

            if (name.StartsWith("CDE_", StringComparison.OrdinalIgnoreCase))
            {
                throw Invalid(field, $"{name}: names starting with CDE_ are the platform's own.");
            }

            if (value is null || value.Length > MaxVariableValueLength || value.Contains('\0', StringComparison.Ordinal))
            {
                throw Invalid(field, $"The value of {name} must be at most {MaxVariableValueLength / 1024} KiB of text without NUL characters.");
            }
        }
    }

    private static string Shown(string name) => name.Length > 40 ? name[..40] + "…" : name;

    private static WorkspaceRejectedException Invalid(string field, string message) =>
        new(WorkspaceRejection.Invalid, message, field);

    [GeneratedRegex("^[A-Za-z_][A-Za-z0-9_]{0,127}$", RegexOptions.CultureInvariant)]
    private static partial Regex VariableName();

    [GeneratedRegex(@"^(\.devcontainer/devcontainer\.json|\.devcontainer\.json|\.devcontainer/(?!\.\.?/)[A-Za-z0-9._-]{1,64}/devcontainer\.json)$", RegexOptions.CultureInvariant)]
    private static partial Regex DevContainerPath();

    // name[:tag][@digest], lower-case path components as the distribution spec allows.
    [GeneratedRegex(@"^[a-z0-9]+([._-][a-z0-9]+)*(:[0-9]+)?(/[a-z0-9]+([._-][a-z0-9]+)*)*(:[A-Za-z0-9_][A-Za-z0-9_.-]{0,127})?(@sha256:[a-f0-9]{64})?$", RegexOptions.CultureInvariant)]
    private static partial Regex ImageReference();
}
