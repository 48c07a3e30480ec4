using System.ComponentModel.DataAnnotations;

namespace CloudDevEnv.Grains.Identity;

/// <summary>Limits on API tokens, bound from <c>Auth:Tokens</c>.</summary>
public sealed class ApiTokenOptions
{
    public const string SectionName = "Auth:Tokens";

    /// <summary>The longest a token may live (Coder caps tokens the same way).</summary>
    [Range(typeof(TimeSpan), "1.00:00:00", "3650.00:00:00")]
    public TimeSpan MaxLifetime { get; set; } = TimeSpan.FromDays(365);

    /// <summary>Tokens one user may hold at once.</summary>
    [Range(1, 1000)]
    public int MaxPerUser { get; set; } = 50;
}
