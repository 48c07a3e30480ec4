using System.ComponentModel.DataAnnotations;
using Npgsql;

namespace CloudDevEnv.PostgreSql;

/// <summary>Cluster mode's database and the cluster's identity, bound from the <c>Cluster</c> section and validated at
/// start-up. Every silo, API and proxy process of one installation names the same database, cluster and service.</summary>
public sealed class ClusterDatabaseOptions : IValidatableObject
{
    public const string SectionName = "Cluster";

    /// <summary>An Npgsql connection string, e.g. <c>Host=db;Port=5432;Username=cde;Password=…;Database=clouddevenv</c>.
    /// Its timeouts are the platform's: a call fails (a 503) rather than hang while the database is away.</summary>
    [Required(ErrorMessage = "Cluster:ConnectionString is required in cluster mode: the PostgreSQL database of the installation.")]
    public string ConnectionString { get; set; } = string.Empty;

    /// <summary>Silos with the same cluster id form one cluster.</summary>
    [Required, RegularExpression("^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")]
    public string ClusterId { get; set; } = "clouddevenv";

    /// <summary>The installation: grain state and reminders are stored under it, and it labels the installation's
    /// containers (two installations sharing a database or an engine never see each other's).</summary>
    [Required, RegularExpression("^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")]
    public string ServiceId { get; set; } = "clouddevenv";

    /// <summary>How long opening a connection or a command may take.</summary>
    [Range(1, 300)]
    public int TimeoutSeconds { get; set; } = 5;

    /// <summary>The connection string with the platform's timeouts.</summary>
    public string EffectiveConnectionString => new NpgsqlConnectionStringBuilder(ConnectionString)
    {
        Timeout = TimeoutSeconds,
        CommandTimeout = TimeoutSeconds * 6,
    }.ConnectionString;

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        if (string.IsNullOrWhiteSpace(ConnectionString))
        {
            yield break;
        }

        string? problem = null;
        try
        {
            _ = new NpgsqlConnectionStringBuilder(ConnectionString);
        }
        catch (Exception e) when (e is ArgumentException or FormatException or KeyNotFoundException)
        {
            problem = $"Cluster:ConnectionString is not an Npgsql connection string: {e.Message}";
        }

        if (problem is not null)
        {
            yield return new ValidationResult(problem);
        }
    }
}
