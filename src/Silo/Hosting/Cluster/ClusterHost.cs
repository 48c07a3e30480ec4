using System.Net;
using CloudDevEnv.Api;
using CloudDevEnv.Api.Health;
using CloudDevEnv.Api.Identity;
using CloudDevEnv.Grains;
using CloudDevEnv.PostgreSql;
using CloudDevEnv.Proxy;
using CloudDevEnv.Runtime.Docker;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.Extensions.Options;
using Orleans.Dashboard;

namespace CloudDevEnv.Silo.Hosting.Cluster;

/// <summary>Builds one process of cluster mode, by role, from the same binary as local mode: a silo (grains, the
/// Docker runtime, reminders; state in PostgreSQL), the API or the proxy (each an Orleans client of the silos). Any
/// number of each; every one applies the schema before it starts (safely at once, see <see cref="SchemaMigrations"/>).</summary>
public static class ClusterHost
{
    public static async Task<WebApplication> BuildAsync(string[] args, CancellationToken cancellationToken)
    {
        // The build output's appsettings.json (log levels), wherever the process is started from.
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions { Args = args, ContentRootPath = AppContext.BaseDirectory });
        var host = HostConfiguration.Prepare(builder, args);
        var database = Database(builder.Configuration);
        var dataDir = Path.GetFullPath(host.DataDir);
        Directory.CreateDirectory(dataDir);
        HostConfiguration.KeepBesideData(builder.Configuration, dataDir);

        // Before Orleans starts: its providers read their statements from the schema once, at start-up.
        using (var loggers = LoggerFactory.Create(l => l.AddConsole()))
        {
            await ApplySchemaAsync(database, loggers.CreateLogger<SchemaMigrations>(), cancellationToken);
        }

        switch (host.Role)
        {
            case HostRole.Silo:
                AddSilo(builder, host, database, dataDir);
                break;
            case HostRole.Api:
                AddApi(builder, host, database);
                break;
            case HostRole.Proxy:
                AddProxy(builder, host, database);
                break;
            default:
                throw new StartupException($"Host:Role {host.Role} is not a cluster role (Silo, Api or Proxy).");
        }

        var app = builder.Build();
        switch (host.Role)
        {
            case HostRole.Silo:
                app.MapHealthEndpoints();
                break;
            case HostRole.Api:
                app.UseWorkspaceApi();
                app.MapOrleansDashboard("/dashboard").RequireAuthorization(AuthSchemes.AdminPolicy).ExcludeFromDescription();
                break;
            case HostRole.Proxy:
                app.UseWorkspaceProxy(otherHosts: own =>
                {
                    own.UseRouting();
                    own.UseEndpoints(endpoints => endpoints.MapHealthEndpoints());
                });
                break;
        }

        return app;
    }

    /// <summary>The <c>migrate</c> command: applies the schema and exits.</summary>
    public static async Task<int> MigrateAsync(string[] args, CancellationToken cancellationToken)
    {
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions { Args = args, ContentRootPath = AppContext.BaseDirectory });
        HostConfiguration.Prepare(builder, args);
        using var loggers = LoggerFactory.Create(l => l.AddConsole());
        var applied = await ApplySchemaAsync(Database(builder.Configuration), loggers.CreateLogger<SchemaMigrations>(), cancellationToken);
        Console.WriteLine(applied.Count == 0
            ? $"The schema is current (version {SchemaMigrations.All[^1].Version})."
            : $"Applied schema migration(s) {string.Join(", ", applied)}; the schema is at version {SchemaMigrations.All[^1].Version}.");
        return 0;
    }

    private static ClusterDatabaseOptions Database(IConfiguration configuration)
    {
        var database = configuration.GetSection(ClusterDatabaseOptions.SectionName).Get<ClusterDatabaseOptions>() ?? new ClusterDatabaseOptions();
        var failures = new List<System.ComponentModel.DataAnnotations.ValidationResult>();
        if (!System.ComponentModel.DataAnnotations.Validator.TryValidateObject(database, new(database), failures, validateAllProperties: true))
        {
            throw new StartupException(string.Join(" ", failures.Select(f => f.ErrorMessage)));
        }

        return database;
    }

    private static async Task<IReadOnlyList<int>> ApplySchemaAsync(ClusterDatabaseOptions database, ILogger<SchemaMigrations> logger, CancellationToken cancellationToken)
    {
        try
        {
            return await new SchemaMigrations(logger).ApplyAsync(database.EffectiveConnectionString, cancellationToken);
        }
        catch (Exception e) when (e is Npgsql.NpgsqlException or InvalidOperationException or TimeoutException)
        {
            throw new StartupException($"The cluster's database cannot be prepared: {e.Message}");
        }
    }

    private static void AddSilo(WebApplicationBuilder builder, HostProcessOptions host, ClusterDatabaseOptions database, string dataDir)
    {
        // Every silo of the installation labels and finds the same containers.
        foreach (var key in new[] { "Runtime:Docker:Installation", "Runtime:Kubernetes:Installation" })
        {
            if (string.IsNullOrEmpty(builder.Configuration[key]))
            {
                builder.Configuration.AddInMemoryCollection([new(key, "cluster-" + database.ServiceId)]);
            }
        }

        builder.WebHost.UseUrls(host.SiloHealthUrl);
        var detection = builder.Configuration.GetSection("Cluster:FailureDetection").Get<FailureDetectionSettings>() ?? new FailureDetectionSettings();
        builder.UseOrleans(silo =>
        {
            silo.UsePostgresCluster(database, StorageNames.Workspaces, new FailureDetection(detection.ProbeTimeout, detection.MissedProbesLimit, detection.VotesForDeath));
            silo.ListenOn(IPAddress.Parse(host.AdvertisedAddress), host.SiloPort, host.GatewayPort);
            if (host.KubernetesHosting)
            {
                silo.UseKubernetesHosting();
            }
            silo.AddDashboard();
        });
        builder.Services.AddWorkspaceGrains(builder.Configuration);
        builder.Services.AddSnapshotStore(builder.Configuration, dataDir);
        builder.Services.AddWorkspaceRuntime(builder.Configuration);
    }

    private static void AddApi(WebApplicationBuilder builder, HostProcessOptions host, ClusterDatabaseOptions database)
    {
        builder.WebHost.UseUrls(host.ApiUrl);
        builder.UseOrleansClient(client =>
        {
            client.UsePostgresCluster(database);
            client.AddDashboard();
        });
        builder.Services.AddDataProtection()
            .SetApplicationName("clouddevenv")
            .AddKeyManagementOptions(o => o.XmlRepository = new PostgresXmlRepository(database.EffectiveConnectionString));
        builder.Services.AddWorkspaceApi(builder.Configuration);
    }

    private static void AddProxy(WebApplicationBuilder builder, HostProcessOptions host, ClusterDatabaseOptions database)
    {
        builder.WebHost.UseUrls(host.ProxyUrl);
        builder.UseOrleansClient(client => client.UsePostgresCluster(database));
        builder.Services.AddWorkspaceProxy(builder.Configuration);
    }

    /// <summary><c>Cluster:FailureDetection</c>: how fast a lost silo is declared dead (about ProbeTimeout ×
    /// MissedProbesLimit, then the votes), so that its workspaces' grains come back on another silo.</summary>
    private sealed class FailureDetectionSettings
    {
        public TimeSpan ProbeTimeout { get; set; } = TimeSpan.FromSeconds(2);

        public int MissedProbesLimit { get; set; } = 3;

        public int VotesForDeath { get; set; } = 2;
    }
}
