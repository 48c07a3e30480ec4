using System.Net;
using System.Security.Cryptography;
using Docker.DotNet;
using Docker.DotNet.Models;

namespace CloudDevEnv.Runtime.Docker.Tests;

[CollectionDefinition(Name)]
public sealed class DockerCollection : ICollectionFixture<DockerFixture>
{
    public const string Name = "docker engine";
}

/// <summary>One runtime against the real engine for the whole run. Fails (never skips) when no engine answers
/// or the local images are missing; on dispose, fails when a test left a container or volume behind.</summary>
public sealed class DockerFixture : IAsyncLifetime
{
    public const string Owner = "runtime-docker-tests";
    private int _counter;
    private readonly List<string> _testImages = [];

    public DockerFixture()
    {
        RunId = Convert.ToHexString(RandomNumberGenerator.GetBytes(3)).ToLowerInvariant();
        Options = new DockerRuntimeOptions();
        Runtime = new DockerWorkspaceRuntime(Options);
        Engine = new DockerClientBuilder().WithEndpoint(new Uri(Options.ResolveEndpoint())).WithTimeout(TimeSpan.FromMinutes(5)).Build();
    }

    /// <summary>Distinguishes this run's workspaces from those of other runs and other suites.</summary>
    public string RunId { get; }

    public DockerRuntimeOptions Options { get; }

    public DockerWorkspaceRuntime Runtime { get; }

    /// <summary>A raw engine client for assertions.</summary>
    public DockerClient Engine { get; }

    /// <summary>A workspace id unique to this run and call: <c>rdt-&lt;run&gt;-&lt;name&gt;-&lt;n&gt;</c>.</summary>
    public string NewWorkspaceId(string name) => $"rdt-{RunId}-{name}-{Interlocked.Increment(ref _counter)}";

    public string NewImageTag(string name)
    {
        var tag = $"clouddevenv-tests/{name}:{RunId}-{Interlocked.Increment(ref _counter)}";
        lock (_testImages)
        {
            _testImages.Add(tag);
        }

        return tag;
    }

    /// <summary>The gateway the tests give a workspace: the platform's default ports, a secret of the run's.</summary>
    public static readonly InstanceGateway Gateway = new(61100, 13337, InstanceGateway.NewSecret());

    public InstanceSpec Spec(string workspaceId, string? image = null, InstanceGateway? gateway = null,
        InstanceResources? resources = null, IReadOnlyDictionary<string, string>? environment = null,
        IReadOnlyList<InstanceMount>? mounts = null, IReadOnlyList<string>? command = null, string? user = null) =>
        new(workspaceId, Owner, image ?? WorkspaceImages.WorkspaceImage, command,
            environment ?? new Dictionary<string, string>(), gateway, mounts ?? [],
            resources ?? new InstanceResources(0, 0), user);

    public async Task InitializeAsync()
    {
        var endpoint = Options.ResolveEndpoint();
        try
        {
            using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(10));
            await Engine.System.PingAsync(cts.Token);
        }
        catch (Exception e)
        {
            throw new InvalidOperationException(
                $"No Docker engine answers at {endpoint} ({e.GetType().Name}: {e.Message}). These integration tests need one: " +
                "run `bash scripts/ensure-docker.sh && bash scripts/build-images.sh` first.", e);
        }

        foreach (var image in new[] { WorkspaceImages.BaseImage, WorkspaceImages.WorkspaceImage })
        {
            try
            {
                await Engine.Images.InspectImageAsync(image);
            }
            catch (DockerApiException e) when (e.StatusCode == HttpStatusCode.NotFound)
            {
                throw new InvalidOperationException($"The image {image} is missing: run `bash scripts/build-images.sh` first.", e);
            }
        }

        try
        {
            await Engine.Volumes.InspectAsync(WorkspaceImages.IdeBundleVolume);
        }
        catch (DockerApiException e) when (e.StatusCode == HttpStatusCode.NotFound)
        {
            throw new InvalidOperationException($"The IDE bundle volume {WorkspaceImages.IdeBundleVolume} is missing: run `bash scripts/build-images.sh` first.", e);
        }
    }

    /// <summary>What this run's workspaces left on the engine: containers and volumes carrying our labels.</summary>
    public async Task<(IList<ContainerListResponse> Containers, IList<VolumeResponse> Volumes)> LeftoversAsync(string idPrefix)
    {
        var filter = new Dictionary<string, IDictionary<string, bool>>
        {
            ["label"] = new Dictionary<string, bool> { [$"{RuntimeLabels.Owner}={Owner}"] = true },
        };
        var containers = (await Engine.Containers.ListContainersAsync(new ContainersListParameters { All = true, Filters = filter }))
            .Where(c => c.Labels.TryGetValue(RuntimeLabels.WorkspaceId, out var id) && id.StartsWith(idPrefix, StringComparison.Ordinal))
            .ToList();
        var volumes = ((await Engine.Volumes.ListAsync(new VolumesListParameters { Filters = filter })).Volumes ?? [])
            .Where(v => v.Labels is not null && v.Labels.TryGetValue(RuntimeLabels.WorkspaceId, out var id) && id.StartsWith(idPrefix, StringComparison.Ordinal))
            .ToList();
        return (containers, volumes);
    }

    public async Task DisposeAsync()
    {
        try
        {
            var (containers, volumes) = await LeftoversAsync($"rdt-{RunId}-");
            foreach (var c in containers)
            {
                await Engine.Containers.RemoveContainerAsync(c.ID, new ContainerRemoveParameters { Force = true, RemoveVolumes = true });
            }

            foreach (var v in volumes)
            {
                await Engine.Volumes.RemoveAsync(v.Name, force: true);
            }

            foreach (var tag in _testImages)
            {
                try
                {
                    await Engine.Images.DeleteImageAsync(tag, new ImageDeleteParameters { Force = true });
                }
                catch (DockerApiException e) when (e.StatusCode == HttpStatusCode.NotFound)
                {
                    // the test did not get as far as building it
                }
            }

            if (containers.Count > 0 || volumes.Count > 0)
            {
                throw new InvalidOperationException(
                    "The tests left labelled resources behind (now removed): containers " +
                    string.Join(", ", containers.Select(c => c.Names.FirstOrDefault())) + "; volumes " +
                    string.Join(", ", volumes.Select(v => v.Name)));
            }
        }
        finally
        {
            Runtime.Dispose();
            Engine.Dispose();
        }
    }
}

/// <summary>Collects progress lines synchronously (Progress&lt;T&gt; would post them to the thread pool).</summary>
public sealed class LineCollector(ITestOutputHelper? output = null) : IProgress<string>
{
    private readonly List<string> _lines = [];

    public IReadOnlyList<string> Lines
    {
        get
        {
            lock (_lines)
            {
                return [.. _lines];
            }
        }
    }

    public void Report(string value)
    {
        lock (_lines)
        {
            _lines.Add(value);
        }

        try
        {
            output?.WriteLine("  | " + value);
        }
        catch (InvalidOperationException)
        {
            // the test has ended
        }
    }
}

public static class Eventually
{
    public static async Task<TimeSpan> WaitAsync(Func<Task<bool>> condition, TimeSpan timeout, string what)
    {
        var watch = System.Diagnostics.Stopwatch.StartNew();
        while (watch.Elapsed < timeout)
        {
            if (await condition())
            {
                return watch.Elapsed;
            }

            await Task.Delay(100);
        }

        throw new TimeoutException($"{what} did not happen within {timeout.TotalSeconds:0}s.");
    }
}
