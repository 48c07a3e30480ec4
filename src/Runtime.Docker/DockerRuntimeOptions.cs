namespace CloudDevEnv.Runtime.Docker;

/// <summary>Settings of <see cref="DockerWorkspaceRuntime"/>, bound from the configuration section
/// <c>Runtime:Docker</c> (see <see cref="SectionName"/>) and validated at start-up.</summary>
public sealed class DockerRuntimeOptions
{
    public const string SectionName = "Runtime:Docker";

    /// <summary>The default endpoint when neither the configuration nor <c>DOCKER_HOST</c> names one.</summary>
    public const string DefaultEndpoint = "unix:///var/run/docker.sock";

    /// <summary>Linux capabilities a workspace keeps (all others are dropped): what package managers, git and
    /// servers on ports above 1024 need. Docker's own default adds NET_RAW, MKNOD, AUDIT_WRITE and SETFCAP.</summary>
    public static readonly IReadOnlyList<string> DefaultCapabilities =
    [
        "CHOWN", "DAC_OVERRIDE", "FOWNER", "FSETID", "KILL", "SETGID", "SETUID", "SETPCAP", "NET_BIND_SERVICE", "SYS_CHROOT",
    ];

    /// <summary>The command a workspace container runs when its spec gives none: it keeps the container up
    /// (under the init process) until it is stopped.</summary>
    public static readonly IReadOnlyList<string> DefaultKeepAliveCommand = ["sleep", "infinity"];

    /// <summary>The Docker engine: <c>unix:///var/run/docker.sock</c>, <c>tcp://host:2375</c>...
    /// Empty: <c>DOCKER_HOST</c>, else <see cref="DefaultEndpoint"/>. Key <c>Runtime:Docker:Endpoint</c>.</summary>
    public string? Endpoint { get; set; }

    /// <summary>The engine API version to request, e.g. "1.41"; empty lets the engine use its own.</summary>
    public string? ApiVersion { get; set; }

    /// <summary>The host address workspace ports are published on. Default 127.0.0.1: only the proxy on this
    /// host reaches them. A non-loopback address (0.0.0.0, ::, a NIC's address) needs
    /// <see cref="AllowNonLoopbackPublish"/>.</summary>
    public string PublishAddress { get; set; } = "127.0.0.1";

    /// <summary>Allows a <see cref="PublishAddress"/> that is not a loopback address. Off by default.</summary>
    public bool AllowNonLoopbackPublish { get; set; }

    /// <summary>The host name put in <see cref="RuntimeInstance.Gateway"/>; empty: the publish address
    /// (127.0.0.1 when publishing on 0.0.0.0, [::1] on ::).</summary>
    public string? EndpointHost { get; set; }

    /// <summary>Where the IDE bundle comes from, mounted read-only at <see cref="IdeBundleTarget"/> into every
    /// workspace container: a docker volume name (default <c>clouddevenv-ide-&lt;version&gt;</c>, filled by
    /// <c>scripts/build-images.sh</c>), or an absolute host folder (a bind mount). "none" mounts nothing.</summary>
    public string IdeBundleSource { get; set; } = WorkspaceImages.IdeBundleVolume;

    /// <summary>Where the IDE bundle appears inside workspace containers.</summary>
    public string IdeBundleTarget { get; set; } = WorkspaceImages.IdeBundlePath;

    /// <summary>The grace a container gets between SIGTERM and SIGKILL when the engine stops it by itself,
    /// and in <see cref="IWorkspaceRuntime.StopAsync"/> when the caller passes a negative grace.</summary>
    public TimeSpan DefaultStopGrace { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>Set: every container and volume is labelled <c>dev.clouddevenv.installation=&lt;value&gt;</c> and
    /// <see cref="IWorkspaceRuntime.ListAsync"/> returns only those, so that installations sharing one engine do not
    /// reconcile each other's workspaces away. Key <c>Runtime:Docker:Installation</c>; the local host sets it.</summary>
    public string? Installation { get; set; }

    /// <summary>Prefix of container and volume names: container <c>&lt;prefix&gt;&lt;workspace id&gt;</c>, volumes
    /// <c>&lt;prefix&gt;&lt;workspace id&gt;-workspaces</c> and <c>-home</c>.</summary>
    public string NamePrefix { get; set; } = "cde-";

    /// <summary>Where the workspace volume is mounted (repositories are cloned below it).</summary>
    public string WorkspacesPath { get; set; } = "/workspaces";

    /// <summary>Where the home volume is mounted: /home holds the home of every non-root user, whichever the image
    /// has and whichever the tools run as (root's /root is not kept).</summary>
    public string HomePath { get; set; } = "/home";

    /// <summary>Capabilities kept; null: <see cref="DefaultCapabilities"/>.</summary>
    public string[]? Capabilities { get; set; }

    /// <summary>The command when the spec gives none; null: <see cref="DefaultKeepAliveCommand"/>.</summary>
    public string[]? KeepAliveCommand { get; set; }

    /// <summary>Maximum number of processes in a workspace (fork-bomb guard); 0: no limit.</summary>
    public long PidsLimit { get; set; } = 4096;

    /// <summary>The docker network every workspace joins. Empty (the default): each workspace gets a bridge network of
    /// its own (<c>&lt;prefix&gt;&lt;workspace id&gt;</c>), so that no workspace reaches another's; the gateway's secret
    /// is the second lock. A shared network keeps only that one.</summary>
    public string? Network { get; set; }

    /// <summary>The network mode of <c>RUN</c> steps in image builds: empty, the engine's default bridge (which no
    /// workspace is on, and whose reach beyond the host is the engine's egress setting); "none" builds without any network.</summary>
    public string? BuildNetworkMode { get; set; }

    /// <summary>Memory of each <c>RUN</c> step of an image build (swap included): a Dockerfile is the repository's, so
    /// hostile. 0: no limit.</summary>
    public long BuildMemoryBytes { get; set; } = 4L * 1024 * 1024 * 1024;

    /// <summary>CPUs of each <c>RUN</c> step of an image build; 0: no limit.</summary>
    public double BuildCpus { get; set; } = 2;

    /// <summary>How long one image build may take, all steps together.</summary>
    public TimeSpan BuildTimeout { get; set; } = TimeSpan.FromMinutes(30);

    /// <summary>Whether <see cref="IWorkspaceRuntime.PrepareImageAsync"/> tries to pull an image that is not
    /// present locally (and has no build).</summary>
    public bool PullMissingImages { get; set; } = true;

    /// <summary>How long a workspace's start waits for its companions' health checks to pass (a database to take
    /// connections) before it goes on without them.</summary>
    public TimeSpan CompanionHealthTimeout { get; set; } = TimeSpan.FromMinutes(2);

    /// <summary>How long one HTTP probe of a workspace port may take.</summary>
    public TimeSpan ProbeTimeout { get; set; } = TimeSpan.FromSeconds(3);

    /// <summary>How long a short engine call (inspect, create, start, remove...) may take. Builds, pulls, exec
    /// streams and archives are bounded by the caller's cancellation token only.</summary>
    public TimeSpan RequestTimeout { get; set; } = TimeSpan.FromSeconds(60);

    /// <summary>The endpoint to use: <see cref="Endpoint"/>, else <c>DOCKER_HOST</c>, else <see cref="DefaultEndpoint"/>.</summary>
    public string ResolveEndpoint()
    {
        if (!string.IsNullOrWhiteSpace(Endpoint))
        {
            return Endpoint.Trim();
        }

        var fromEnvironment = Environment.GetEnvironmentVariable("DOCKER_HOST");
        return string.IsNullOrWhiteSpace(fromEnvironment) ? DefaultEndpoint : fromEnvironment.Trim();
    }
}
