using System.ComponentModel.DataAnnotations;
using System.Text.RegularExpressions;
using CloudDevEnv.Api.Workspaces;

namespace CloudDevEnv.Api;

/// <summary>The API host's own settings, bound from the <c>Api</c> section and validated at start-up.</summary>
public sealed partial class ApiOptions : IValidatableObject
{
    public const string SectionName = "Api";

    /// <summary>The <c>Host</c> values the API answers (<c>name:port</c>, or <c>name</c> for any port); anything else is
    /// a 400, so that a hostile page cannot reach the API through DNS rebinding. The local-mode host fills in
    /// <c>127.0.0.1:&lt;port&gt;</c> and <c>localhost:&lt;port&gt;</c>.</summary>
    [MinLength(1, ErrorMessage = "Api:AllowedHosts must name at least one host the API answers.")]
    public List<string> AllowedHosts { get; set; } = [];

    /// <summary>Launches one user may make per <see cref="CreateLimitWindow"/>, on each API process.</summary>
    [Range(1, 100_000)]
    public int CreateLimit { get; set; } = 20;

    [Range(typeof(TimeSpan), "00:00:01", "1.00:00:00")]
    public TimeSpan CreateLimitWindow { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>Users (besides admins) who may register prebuilds, e.g. the user whose API token a prebuild workflow holds.</summary>
    public List<string> PrebuildPublishers { get; set; } = [];

    /// <summary>The secret of the GitHub push webhook (<c>POST /api/prebuilds/webhook</c>), which rebuilds the platform's
    /// prebuilds of a pushed branch; GitHub signs each delivery with it. Unset: the platform takes no webhooks.</summary>
    [MinLength(16, ErrorMessage = "Api:PrebuildWebhookSecret must be at least 16 characters: it is all that stands between anyone and a rebuild.")]
    public string? PrebuildWebhookSecret { get; set; }

    /// <summary>The sizes users may ask for by name; when none is configured, <see cref="DefaultMachineClasses"/>. A launch
    /// that names none gets the workspaces' defaults (Workspaces:DefaultCpus, Workspaces:DefaultMemoryBytes).</summary>
    public Dictionary<string, MachineClass> MachineClasses { get; set; } = [];

    /// <summary>Small enough for any Docker host this runs on; an operator lists larger ones.</summary>
    public static readonly IReadOnlyDictionary<string, MachineClass> DefaultMachineClasses = new Dictionary<string, MachineClass>
    {
        ["small"] = new() { Cpus = 1, MemoryMiB = 2048 },
        ["basic"] = new() { Cpus = 2, MemoryMiB = 4096 },
    };

    public IReadOnlyDictionary<string, MachineClass> EffectiveMachineClasses => MachineClasses.Count > 0 ? MachineClasses : DefaultMachineClasses;

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        foreach (var (name, machine) in MachineClasses)
        {
            if (!MachineClassName().IsMatch(name))
            {
                yield return new ValidationResult($"Api:MachineClasses:{name}: a class name is 1 to 32 lower-case letters, digits and dashes.");
            }

            if (machine.Cpus is <= 0 or > 64 || machine.MemoryMiB is < 64 or > 512 * 1024)
            {
                yield return new ValidationResult($"Api:MachineClasses:{name}: Cpus must be above 0 and at most 64, MemoryMiB 64 to 524288.");
            }
        }
    }

    [GeneratedRegex("^[a-z0-9][a-z0-9-]{0,31}$", RegexOptions.CultureInvariant)]
    private static partial Regex MachineClassName();
}
