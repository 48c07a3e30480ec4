using System.Net;
using Docker.DotNet;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace CloudDevEnv.Runtime.Docker;

/// <summary><see cref="IWorkspaceRuntime"/> on the Docker engine API.</summary>
/// <remarks>
/// A workspace is a container <c>&lt;prefix&gt;&lt;workspace id&gt;</c> labelled with <see cref="RuntimeLabels"/>,
/// with two labelled named volumes (<c>…-workspaces</c> at <see cref="DockerRuntimeOptions.WorkspacesPath"/>, <c>…-home</c>
/// at <see cref="DockerRuntimeOptions.HomePath"/>), the IDE bundle mounted read-only, its ports
/// published on <see cref="DockerRuntimeOptions.PublishAddress"/> only (ephemeral host ports), CPU, memory and
/// process limits, never privileged, <c>no-new-privileges</c>, a reduced capability set, and an init process as
/// PID 1 that reaps what exec'd servers leave behind. Without a command in the spec it runs
/// <see cref="DockerRuntimeOptions.KeepAliveCommand"/> (as the entrypoint, like devcontainers' overrideCommand).
/// </remarks>
public sealed partial class DockerWorkspaceRuntime : IWorkspaceRuntime, IDisposable
{
    /// <summary>Label on the workspace volumes: "workspaces" or "home".</summary>
    public const string VolumeRoleLabel = "dev.clouddevenv.volume-role";

    private const string WorkspacesRole = "workspaces";
    private const string HomeRole = "home";
    private const string MountRole = "mount";

    private readonly DockerRuntimeOptions _options;
    private readonly ILogger _logger;
    private readonly DockerClient _client;
    private readonly HttpClient _probe;
    private readonly string _endpoint;
    private readonly IReadOnlyList<string> _capabilities;
    private readonly IReadOnlyList<string> _keepAlive;

    /// <summary>Per workspace, the id of the container its last exec ran in (found by name, our labels checked).</summary>
    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, string> _execTargets = new(StringComparer.Ordinal);

    public DockerWorkspaceRuntime(DockerRuntimeOptions options, ILogger<DockerWorkspaceRuntime>? logger = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        DockerRuntimeOptionsValidator.ThrowIfInvalid(options);
        _options = options;
        _logger = (ILogger?)logger ?? NullLogger.Instance;
        _endpoint = options.ResolveEndpoint();
        _capabilities = (options.Capabilities ?? [.. DockerRuntimeOptions.DefaultCapabilities])
            .Select(c => c.Trim().ToUpperInvariant()).Select(c => c.StartsWith("CAP_", StringComparison.Ordinal) ? c : "CAP_" + c)
            .Distinct().ToList();
        _keepAlive = options.KeepAliveCommand ?? [.. DockerRuntimeOptions.DefaultKeepAliveCommand];

        // No client-wide timeout: builds, pulls, exec streams and archives may run long; short calls get
        // RequestTimeout through their own cancellation (see EngineAsync).
        var builder = new DockerClientBuilder().WithEndpoint(new Uri(_endpoint)).WithTimeout(Timeout.InfiniteTimeSpan);
        if (!string.IsNullOrWhiteSpace(options.ApiVersion))
        {
            builder = builder.WithApiVersion(System.Version.Parse(options.ApiVersion));
        }

        _client = builder.Build();
        _probe = new HttpClient(new SocketsHttpHandler
        {
            UseProxy = false,
            AllowAutoRedirect = false,
            ConnectTimeout = options.ProbeTimeout,
            PooledConnectionLifetime = TimeSpan.FromSeconds(30),
        })
        {
            Timeout = Timeout.InfiniteTimeSpan,
        };
    }

    public string Name => "docker";

    public string Scope => $"docker|{_endpoint}|{_options.Installation ?? "-"}";

    public bool RunsCompanions => true;

    public string? WorkspaceVolumePath => _options.WorkspacesPath;

    /// <summary>The engine endpoint in use.</summary>
    public string Endpoint => _endpoint;

    public void Dispose()
    {
        _client.Dispose();
        _probe.Dispose();
    }

    /// <summary>Runs one engine call with <see cref="DockerRuntimeOptions.RequestTimeout"/> (or <paramref name="timeout"/>)
    /// and maps its failures; the caller's cancellation propagates as <see cref="OperationCanceledException"/>.</summary>
    private async Task<T> EngineAsync<T>(string action, Func<CancellationToken, Task<T>> call, CancellationToken ct, TimeSpan? timeout = null)
    {
        var limit = timeout ?? _options.RequestTimeout;
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(ct);
        cts.CancelAfter(limit);
        try
        {
            return await call(cts.Token);
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
            throw;
        }
        catch (OperationCanceledException e)
        {
            throw new WorkspaceRuntimeException(
                $"{action}: the Docker engine at {_endpoint} did not answer within {limit.TotalSeconds:0}s.", isPermanent: false, e);
        }
        catch (Exception e) when (e is not WorkspaceRuntimeException)
        {
            throw DockerErrors.Map(e, action, _endpoint);
        }
    }

    /// <summary><see cref="EngineAsync{T}"/> for a look-up: the engine's 404 answers <c>null</c>.</summary>
    private Task<T?> EngineFindAsync<T>(string action, Func<CancellationToken, Task<T>> call, CancellationToken ct)
        where T : class =>
        EngineAsync<T?>(action, async token =>
        {
            try
            {
                return await call(token);
            }
            catch (DockerApiException e) when (e.StatusCode == HttpStatusCode.NotFound)
            {
                return null;
            }
        }, ct);
}
