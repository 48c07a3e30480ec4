using System.Net;
using Microsoft.Extensions.DependencyInjection;
using Orleans.Configuration;
using Orleans.Hosting;
using Orleans.Serialization;

namespace CloudDevEnv.PostgreSql;

/// <summary>Cluster mode's wiring of Orleans to PostgreSQL: clustering, grain storage and reminders through the ADO.NET
/// providers (driver "Npgsql"; the schema is <see cref="SchemaMigrations"/>'s), for silos and for the API and proxy
/// processes as clients.</summary>
public static class PostgresClusterExtensions
{
    /// <summary>The ADO.NET invariant the providers load the driver by (the grain storage's default is SQL Server).</summary>
    public const string Invariant = "Npgsql";

    /// <param name="storageName">The grain storage provider's name the grains ask for.</param>
    /// <param name="failureDetection">How fast a lost silo is declared dead, so that its grains come back elsewhere.</param>
    public static ISiloBuilder UsePostgresCluster(
        this ISiloBuilder silo, ClusterDatabaseOptions database, string storageName, FailureDetection failureDetection)
    {
        var connection = database.EffectiveConnectionString;
        silo.Configure<ClusterOptions>(o =>
        {
            o.ClusterId = database.ClusterId;
            o.ServiceId = database.ServiceId;
        });
        silo.UseAdoNetClustering(o =>
        {
            o.Invariant = Invariant;
            o.ConnectionString = connection;
        });
        silo.UseAdoNetReminderService(o =>
        {
            o.Invariant = Invariant;
            o.ConnectionString = connection;
        });
        silo.AddAdoNetGrainStorage(storageName, o =>
        {
            o.Invariant = Invariant;
            o.ConnectionString = connection;
        });
        silo.Configure<ClusterMembershipOptions>(o =>
        {
            o.ProbeTimeout = failureDetection.ProbeTimeout;
            o.NumMissedProbesLimit = failureDetection.MissedProbesLimit;
            o.NumVotesForDeathDeclaration = failureDetection.VotesForDeath;
            // A loaded machine must not stretch the detection of a dead peer past the failover the platform promises.
            o.ExtendProbeTimeoutDuringDegradation = false;
        });
        silo.Services.Configure<ExceptionSerializationOptions>(CarryDatabaseErrors);
        return silo;
    }

    public static IClientBuilder UsePostgresCluster(this IClientBuilder client, ClusterDatabaseOptions database)
    {
        var connection = database.EffectiveConnectionString;
        client.Configure<ClusterOptions>(o =>
        {
            o.ClusterId = database.ClusterId;
            o.ServiceId = database.ServiceId;
        });
        client.UseAdoNetClustering(o =>
        {
            o.Invariant = Invariant;
            o.ConnectionString = connection;
        });
        // A client learns of gateways from the membership table: read it often, so that a lost silo's gateway is
        // dropped (and a new one found) within the failover.
        client.Configure<GatewayOptions>(o => o.GatewayListRefreshPeriod = TimeSpan.FromSeconds(5));
        client.Services.Configure<ExceptionSerializationOptions>(CarryDatabaseErrors);
        return client;
    }

    /// <summary>A grain whose storage is away fails its call with the driver's exception: it must reach the caller as
    /// such (the API answers it with a retryable 503), not as a serialization failure of an unknown exception type.</summary>
    private static void CarryDatabaseErrors(ExceptionSerializationOptions options) => options.SupportedNamespacePrefixes.Add("Npgsql");

    /// <summary>Where a silo listens and what address it gives the others.</summary>
    public static ISiloBuilder ListenOn(this ISiloBuilder silo, IPAddress advertised, int siloPort, int gatewayPort)
    {
        silo.Configure<EndpointOptions>(o =>
        {
            o.AdvertisedIPAddress = advertised;
            o.SiloPort = siloPort;
            o.GatewayPort = gatewayPort;
            o.SiloListeningEndpoint = new IPEndPoint(advertised, siloPort);
            o.GatewayListeningEndpoint = new IPEndPoint(advertised, gatewayPort);
        });
        return silo;
    }
}

/// <summary>Membership's failure detection: a silo that misses <paramref name="MissedProbesLimit"/> probes of
/// <paramref name="ProbeTimeout"/> each, and is voted dead by <paramref name="VotesForDeath"/> silos, is declared dead.</summary>
public sealed record FailureDetection(TimeSpan ProbeTimeout, int MissedProbesLimit, int VotesForDeath);
