using System.ComponentModel.DataAnnotations;

namespace CloudDevEnv.Grains.Prebuilds;

/// <summary>Platform-built prebuilds (<c>POST /api/prebuilds/build</c>), bound from the <c>Prebuilds</c> section.</summary>
public sealed class PrebuildOptions
{
    public const string SectionName = "Prebuilds";

    /// <summary>Where built prebuilds are pushed, a repository prefix such as <c>registry.internal:5000/prebuilds</c>: each
    /// repository's image is <c>&lt;Registry&gt;/&lt;name&gt;-&lt;key&gt;:&lt;config hash&gt;</c>. Empty: the platform builds no
    /// prebuilds (registering those of a workflow still works). The engine must be able to push there (docker login).</summary>
    [RegularExpression("^[a-z0-9]+([._-][a-z0-9]+)*(:[0-9]+)?(/[a-z0-9]+([._-][a-z0-9]+)*)*$",
        ErrorMessage = "Prebuilds:Registry must be a lower-case registry and path without a tag, e.g. registry.internal:5000/prebuilds.")]
    public string? Registry { get; set; }

    /// <summary>How long one build (clone, image, hooks, save and push) may take before it is stopped.</summary>
    [Range(typeof(TimeSpan), "00:01:00", "1.00:00:00")]
    public TimeSpan BuildTimeout { get; set; } = TimeSpan.FromMinutes(60);

    /// <summary>How often each platform-built prebuild is built again, as Codespaces' scheduled prebuilds are, so that
    /// what its hooks fetched (dependencies, tools) and its checkout do not age; a push webhook rebuilds sooner. Unset:
    /// only pushes and explicit builds rebuild. At least the silo's minimum reminder period (Orleans' default: 1 min).</summary>
    public TimeSpan? RefreshInterval { get; set; }
}

/// <summary>Checks what depends on other options: the refresh is an Orleans reminder, which has a minimum period.</summary>
internal sealed class PrebuildOptionsValidator(IOptions<Orleans.Hosting.ReminderOptions> reminders) : IValidateOptions<PrebuildOptions>
{
    public ValidateOptionsResult Validate(string? name, PrebuildOptions options)
    {
        var minimum = reminders.Value.MinimumReminderPeriod;
        return options.RefreshInterval is { } interval && (interval < minimum || interval > TimeSpan.FromDays(30))
            ? ValidateOptionsResult.Fail($"Prebuilds:RefreshInterval must be from {minimum} (the minimum reminder period) to 30 days; it is {interval}.")
            : ValidateOptionsResult.Success;
    }
}
