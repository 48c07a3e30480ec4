using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using CloudDevEnv.DevContainers.Tests.ReferenceCli;

namespace CloudDevEnv.Workspaces.Docker.Tests;

[CollectionDefinition(Name)]
public sealed class FeaturesClusterCollection : ICollectionFixture<FeaturesClusterFixture>
{
    public const string Name = "workspaces on docker, with a feature registry";
}

/// <summary>The workspace cluster beside a real OCI registry on loopback (Debian's docker-registry, through
/// scripts/registry.sh), into which the reference CLI publishes the test's features (<c>devcontainer features publish</c>)
/// as a feature author publishes to ghcr.io. The platform may fetch from it, directly (<c>localhost:port</c>) and as the
/// mirror of <c>ghcr.io</c>.</summary>
public sealed class FeaturesClusterFixture : WorkspaceClusterFixture
{
    private readonly string _work = Directory.CreateTempSubdirectory("cde-features-").FullName;

    public int RegistryPort { get; private set; }

    /// <summary>How features in the registry are named: <c>localhost:port/features</c>.</summary>
    public string Namespace => $"localhost:{RegistryPort}/features";

    public static string Cli => Path.Combine(RepositoryRoot.Path, "tools", "devcontainer-cli", "node_modules", ".bin", "devcontainer");

    protected override IEnumerable<KeyValuePair<string, string?>> ExtraSettings =>
    [
        new("DevContainers:AllowedRegistries:0", $"localhost:{RegistryPort}"),
        new("DevContainers:RegistryMirrors:ghcr.io", $"http://127.0.0.1:{RegistryPort}"),
    ];

    public override async Task InitializeAsync()
    {
        Assert.True(File.Exists(Cli), $"The devcontainer reference CLI is not installed ({Cli}): run scripts/install-node-tools.sh.");
        var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        RegistryPort = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        var started = await RunAsync("bash", Path.Combine(RepositoryRoot.Path, "scripts", "registry.sh"), "start", Path.Combine(_work, "registry"), RegistryPort.ToString(System.Globalization.CultureInfo.InvariantCulture));
        Assert.True(started.Exit == 0, started.Output);

        // Two features, as a feature author writes them: hello depends on zeta-tools, and says so with its registry's name.
        WriteFeature("zeta-tools", "{ \"id\": \"zeta-tools\", \"version\": \"1.2.0\", \"name\": \"Base tools\" }",
            "echo zeta-tools >> /usr/local/share/feature-order\n");
        WriteFeature("hello", $$"""
            {
              "id": "hello", "version": "1.0.0", "name": "Hello",
              "options": { "greeting": { "type": "string", "default": "hey" }, "loud": { "type": "boolean", "default": false } },
              "containerEnv": { "HELLO_FEATURE": "installed", "PATH": "/opt/hello/bin:${PATH}" },
              "dependsOn": { "{{Namespace}}/zeta-tools:1": {} },
              "postCreateCommand": "echo feature-hook >> /tmp/cde-feature-hooks"
            }
            """,
            "mkdir -p /opt/hello/bin\necho \"greeting=$GREETING loud=$LOUD user=$_REMOTE_USER home=$_REMOTE_USER_HOME\" > /usr/local/share/hello-feature\necho hello >> /usr/local/share/feature-order\n");
        var published = await RunAsync(Cli, "features", "publish", "-r", $"localhost:{RegistryPort}", "-n", "features", Path.Combine(_work, "src"));
        Assert.True(published.Exit == 0, published.Output);

        // The same hello under ghcr.io's name, served by the mirror: what an air-gapped installation does.
        var mirrored = await RunAsync(Cli, "features", "publish", "-r", $"localhost:{RegistryPort}", "-n", "devcontainers-mirror/features", Path.Combine(_work, "src"));
        Assert.True(mirrored.Exit == 0, mirrored.Output);
        await base.InitializeAsync();
    }

    public override async Task DisposeAsync()
    {
        try
        {
            await base.DisposeAsync();
        }
        finally
        {
            await RunAsync("bash", Path.Combine(RepositoryRoot.Path, "scripts", "registry.sh"), "stop", Path.Combine(_work, "registry"));
            Directory.Delete(_work, recursive: true);
        }
    }

    private void WriteFeature(string id, string definition, string install)
    {
        var folder = Path.Combine(_work, "src", id);
        Directory.CreateDirectory(folder);
        File.WriteAllText(Path.Combine(folder, "devcontainer-feature.json"), definition);
        File.WriteAllText(Path.Combine(folder, "install.sh"), "#!/bin/sh\nset -e\n" + install);
    }

    public static async Task<(int Exit, string Output)> RunAsync(string file, params string[] args)
    {
        var start = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }

        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var errors = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(5));
        await process.WaitForExitAsync(timeout.Token);
        return (process.ExitCode, await output + await errors);
    }
}
