using System.ComponentModel.DataAnnotations;

namespace CloudDevEnv.Api;

/// <summary>The API host's own settings, bound from the <c>Api</c> section and validated at start-up.</summary>
public sealed class ApiOptions
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
}
