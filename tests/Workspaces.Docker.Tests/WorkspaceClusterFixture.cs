using System.Security.Cryptography;
using CloudDevEnv.Grains;
using CloudDevEnv.LocalStorage.Snapshots;
using Docker.DotNet;
using Docker.DotNet.Models;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Orleans;
using Orleans.Hosting;
using Orleans.TestingHost;

namespace CloudDevEnv.Workspaces.Docker.Tests;

[CollectionDefinition(Name)]
public sealed class WorkspaceClusterCollection : ICollectionFixture<WorkspaceClusterFixture>
{
    public const string Name = "workspaces on docker";
}

/// <summary>One silo in this process with the real Docker runtime, memory storage and reminders, and a folder of
/// local Git repositories allowed as file:// URLs. Fails (never skips) when no engine answers or the images are
/// missing. On dispose it fails when a container, volume or image this run made is left behind.</summary>
public class WorkspaceClusterFixture : IAsyncLifetime
{
    private readonly List<string> _images = [];
    private int _counter;

    public WorkspaceClusterFixture()
    {
        RunId = Convert.ToHexString(RandomNumberGenerator.GetBytes(3)).ToLowerInvariant();
        var root = Directory.CreateTempSubdirectory("cde-wdt-repos-");
        // The repositories are bind-mounted into containers and cloned there by the workspace user (uid 1000).
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(root.FullName, (UnixFileMode)0b111_101_101);
        }
        RepoRoot = root.FullName;
        Engine = new DockerClientBuilder().WithEndpoint(new Uri(new DockerRuntimeOptions().ResolveEndpoint())).WithTimeout(TimeSpan.FromMinutes(2)).Build();
    }

    public string RunId { get; }

    public string RepoRoot { get; }

    /// <summary>The local-folder snapshot store's folder for this run.</summary>
    public string SnapshotRoot { get; } = Directory.CreateTempSubdirectory("cde-wdt-snapshots-").FullName;

    public DockerClient Engine { get; }

    /// <summary>A runtime of its own, for looking inside containers.</summary>
    public DockerWorkspaceRuntime Runtime { get; } = new(new DockerRuntimeOptions());

    public InProcessTestCluster Cluster { get; private set; } = null!;

    public IClusterClient Client => Cluster.Client;

    public string Prefix => $"wdt-{RunId}-";

    public string NewId(string name) => $"{Prefix}{name}-{Interlocked.Increment(ref _counter)}";

    public TestRepository NewRepository(string name) => TestRepository.Create(RepoRoot, $"{name}-{Interlocked.Increment(ref _counter)}");

    /// <summary>Remembers an image to remove at the end of the run.</summary>
    public void OwnImage(string image)
    {
        lock (_images)
        {
            _images.Add(image);
        }
    }

    public IServiceProvider SiloServices => Cluster.Silos[0].ServiceProvider;

    /// <summary>Settings a derived fixture adds to (or changes in) the silo's configuration.</summary>
    protected virtual IEnumerable<KeyValuePair<string, string?>> ExtraSettings => [];

    public virtual async Task InitializeAsync()
    {
        try
        {
            using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(10));
            await Engine.System.PingAsync(cts.Token);
            foreach (var image in new[] { WorkspaceImages.BaseImage, WorkspaceImages.WorkspaceImage })
            {
                await Engine.Images.InspectImageAsync(image, cts.Token);
            }
        }
        catch (Exception e)
        {
            throw new InvalidOperationException(
                $"No usable Docker engine for the workspace tests ({e.GetType().Name}: {e.Message}). They need the engine and the local images: " +
                "run `bash scripts/ensure-docker.sh && bash scripts/build-images.sh` first.", e);
        }

        var settings = new Dictionary<string, string?>
        {
            ["Workspaces:FallbackImage"] = WorkspaceImages.WorkspaceImage,
            ["Workspaces:HealthCheckInterval"] = "00:00:00.500",
            ["Workspaces:RetryDelay"] = "00:00:00.200",
            ["Workspaces:MaxRetryDelay"] = "00:00:01",
            ["Workspaces:MaxAttempts"] = "3",
            ["Workspaces:StopGracePeriod"] = "00:00:02",
            ["Workspaces:IdeStartTimeout"] = "00:01:30",
            ["Workspaces:LocalRepoRoots:0"] = RepoRoot,
            ["Runtime:Docker:PullMissingImages"] = "false",
            // Other suites and engineers share this engine: reconcile only this run's workspaces.
            ["Provisioning:OrphanPolicy"] = "Remove",
            ["Provisioning:ReconcileIdPrefix"] = Prefix,
            ["Snapshots:Directory"] = SnapshotRoot,
            ["Secrets:Key"] = Convert.ToBase64String(System.Security.Cryptography.RandomNumberGenerator.GetBytes(32)),
        };
        foreach (var (key, value) in ExtraSettings)
        {
            settings[key] = value;
        }

        var configuration = new ConfigurationBuilder().AddInMemoryCollection(settings).Build();
        var builder = new InProcessTestClusterBuilder(1);
        builder.ConfigureSilo((_, silo) =>
        {
            silo.AddMemoryGrainStorage(StorageNames.Workspaces);
            silo.UseInMemoryReminderService();
            silo.Services.AddWorkspaceGrains(configuration);
            silo.Services.AddDockerWorkspaceRuntime(configuration);
            silo.Services.AddLocalFolderSnapshotStore(configuration);
        });
        Cluster = builder.Build();
        await Cluster.DeployAsync();
    }

    public virtual async Task DisposeAsync()
    {
        var leftovers = new List<string>();
        try
        {
            await Cluster.DisposeAsync();
        }
        finally
        {
            // Whatever a failed test left: note it (the run fails), then remove it so that the next run starts clean.
            var containers = await Engine.Containers.ListContainersAsync(new ContainersListParameters { All = true, Filters = OurLabel() });
            foreach (var container in containers.Where(c => Ours(c.Labels)))
            {
                leftovers.Add("container " + string.Join(',', container.Names));
                await Runtime.DeleteAsync(WorkspaceOf(container.Labels)!, CancellationToken.None);
            }

            var volumes = await Engine.Volumes.ListAsync(new VolumesListParameters { Filters = OurLabel() });
            foreach (var volume in (volumes.Volumes ?? []).Where(v => Ours(v.Labels)))
            {
                leftovers.Add("volume " + volume.Name);
                await Engine.Volumes.RemoveAsync(volume.Name, force: true);
            }

            foreach (var image in _images)
            {
                try
                {
                    await Engine.Images.DeleteImageAsync(image, new ImageDeleteParameters { Force = true });
                }
                catch (DockerImageNotFoundException)
                {
                }
            }

            Runtime.Dispose();
            Engine.Dispose();
            Directory.Delete(RepoRoot, recursive: true);
            Directory.Delete(SnapshotRoot, recursive: true);
        }

        Assert.True(leftovers.Count == 0, "The tests left behind: " + string.Join("; ", leftovers));
    }

    private bool Ours(IDictionary<string, string>? labels) => WorkspaceOf(labels)?.StartsWith(Prefix, StringComparison.Ordinal) == true;

    /// <summary>The workspace a container or volume belongs to: its own, or the one it is a companion of.</summary>
    private static string? WorkspaceOf(IDictionary<string, string>? labels) =>
        labels is null ? null
        : labels.TryGetValue(RuntimeLabels.WorkspaceId, out var id) ? id
        : labels.TryGetValue(RuntimeLabels.CompanionOf, out var of) ? of
        : null;

    private static Dictionary<string, IDictionary<string, bool>> OurLabel() => new()
    {
        ["label"] = new Dictionary<string, bool> { [$"{RuntimeLabels.Managed}=true"] = true },
    };
}
