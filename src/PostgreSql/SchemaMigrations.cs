using System.Reflection;
using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Logging;
using Npgsql;

namespace CloudDevEnv.PostgreSql;

/// <summary>The database schema as numbered migrations (<c>Migrations/NNNN_name.sql</c>, embedded), applied in order
/// and recorded in <c>cde_schema_migrations</c> with a checksum. Applying is idempotent and safe from several processes
/// at once: all pending migrations run in one transaction under an advisory lock, so a second process waits and then
/// finds them applied; a failed migration leaves the database as it was.</summary>
public sealed partial class SchemaMigrations(ILogger<SchemaMigrations> logger)
{
    /// <summary>The advisory lock every migrating process takes ('cde' schema lock).</summary>
    private const long LockKey = 0x6364_6573_6368_656D;

    public sealed record Migration(int Version, string Name, string Sql)
    {
        public string Checksum { get; } = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(Sql)));
    }

    /// <summary>The migrations this build knows, in order.</summary>
    public static IReadOnlyList<Migration> All { get; } = Load();

    /// <returns>The versions applied by this call (none when the schema was current).</returns>
    /// <exception cref="InvalidOperationException">An applied migration's checksum differs from this build's (it was
    /// edited after it shipped), or the database holds a newer schema than this build knows.</exception>
    public async Task<IReadOnlyList<int>> ApplyAsync(string connectionString, CancellationToken cancellationToken)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        await ExecuteAsync(connection, transaction, $"SELECT pg_advisory_xact_lock({LockKey})", cancellationToken);
        await ExecuteAsync(connection, transaction, """
            CREATE TABLE IF NOT EXISTS cde_schema_migrations (
                version    integer     PRIMARY KEY,
                name       text        NOT NULL,
                checksum   text        NOT NULL,
                applied_at timestamptz NOT NULL DEFAULT now())
            """, cancellationToken);

        var applied = await AppliedAsync(connection, transaction, cancellationToken);
        Check(applied);
        List<int> done = [];
        foreach (var migration in All.Where(m => !applied.ContainsKey(m.Version)))
        {
            LogApplying(migration.Version, migration.Name);
            await ExecuteAsync(connection, transaction, migration.Sql, cancellationToken);
            await using var record = new NpgsqlCommand("INSERT INTO cde_schema_migrations (version, name, checksum) VALUES (@v, @n, @c)", connection, transaction);
            record.Parameters.AddWithValue("v", migration.Version);
            record.Parameters.AddWithValue("n", migration.Name);
            record.Parameters.AddWithValue("c", migration.Checksum);
            await record.ExecuteNonQueryAsync(cancellationToken);
            done.Add(migration.Version);
        }

        await transaction.CommitAsync(cancellationToken);
        LogCurrent(All.Count == 0 ? 0 : All[^1].Version, done.Count);
        return done;
    }

    /// <summary>The versions this build knows that the database lacks (empty when current); read-only.</summary>
    public static async Task<IReadOnlyList<int>> PendingAsync(string connectionString, CancellationToken cancellationToken)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync(cancellationToken);
        await using var exists = new NpgsqlCommand("SELECT to_regclass('cde_schema_migrations') IS NOT NULL", connection);
        if (!(bool)(await exists.ExecuteScalarAsync(cancellationToken))!)
        {
            return [.. All.Select(m => m.Version)];
        }

        var applied = await AppliedAsync(connection, null, cancellationToken);
        Check(applied);
        return [.. All.Where(m => !applied.ContainsKey(m.Version)).Select(m => m.Version)];
    }

    private static void Check(IReadOnlyDictionary<int, string> applied)
    {
        foreach (var (version, checksum) in applied)
        {
            var known = All.FirstOrDefault(m => m.Version == version)
                ?? throw new InvalidOperationException(
                    $"The database has schema migration {version}, which this build does not know: it was made by a newer version of CloudDevEnv.");
            if (known.Checksum != checksum)
            {
                throw new InvalidOperationException(
                    $"Schema migration {version} ({known.Name}) applied to the database differs from this build's: a shipped migration was edited. Add a new migration instead.");
            }
        }
    }

    private static async Task<Dictionary<int, string>> AppliedAsync(NpgsqlConnection connection, NpgsqlTransaction? transaction, CancellationToken cancellationToken)
    {
        await using var read = new NpgsqlCommand("SELECT version, checksum FROM cde_schema_migrations", connection, transaction);
        await using var reader = await read.ExecuteReaderAsync(cancellationToken);
        var applied = new Dictionary<int, string>();
        while (await reader.ReadAsync(cancellationToken))
        {
            applied[reader.GetInt32(0)] = reader.GetString(1);
        }

        return applied;
    }

    private static async Task ExecuteAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, string sql, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand(sql, connection, transaction) { CommandTimeout = 300 };
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    private static List<Migration> Load()
    {
        var assembly = typeof(SchemaMigrations).Assembly;
        const string prefix = "CloudDevEnv.PostgreSql.Migrations.";
        var migrations = new List<Migration>();
        foreach (var name in assembly.GetManifestResourceNames().Where(n => n.StartsWith(prefix, StringComparison.Ordinal) && n.EndsWith(".sql", StringComparison.Ordinal)))
        {
            var file = name[prefix.Length..^4];
            var underscore = file.IndexOf('_', StringComparison.Ordinal);
            if (underscore < 1 || !int.TryParse(file[..underscore], System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var version))
            {
                throw new InvalidOperationException($"The migration '{file}.sql' is not named NNNN_name.sql.");
            }

            using var stream = assembly.GetManifestResourceStream(name)!;
            using var reader = new StreamReader(stream, Encoding.UTF8);
            migrations.Add(new Migration(version, file[(underscore + 1)..], reader.ReadToEnd()));
        }

        migrations.Sort((a, b) => a.Version.CompareTo(b.Version));
        if (migrations.Select(m => m.Version).Distinct().Count() != migrations.Count)
        {
            throw new InvalidOperationException("Two schema migrations share a number.");
        }

        return migrations;
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Applying schema migration {Version} ({Name})")]
    private partial void LogApplying(int version, string name);

    [LoggerMessage(Level = LogLevel.Information, Message = "The database schema is at version {Version} ({Applied} migration(s) applied now)")]
    private partial void LogCurrent(int version, int applied);
}
