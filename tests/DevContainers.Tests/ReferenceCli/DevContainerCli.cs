using System.Diagnostics;
using System.Text.Json;
using Xunit;

namespace CloudDevEnv.DevContainers.Tests.ReferenceCli;

/// <summary>Runs the pinned reference CLI (tools/devcontainer-cli) as a conformance peer.</summary>
/// <remarks>
/// <c>read-configuration</c> always asks Docker for an existing container (<c>docker ps</c> by the
/// devcontainer.local_folder / devcontainer.config_file labels) and exits 1 without a message when the
/// Docker CLI fails. Only when it finds one does it substitute <c>${devcontainerId}</c> and
/// <c>${containerEnv:...}</c> into the configuration (with the container's environment). So instead of a
/// Docker engine the CLI gets a stand-in through <c>--docker-path</c>: it lists no container, or, for cases
/// that give a container environment, one fake container whose <c>docker inspect</c> carries that
/// environment and the CLI's own id labels. That makes both substitutions observable without an engine.
/// </remarks>
internal static class DevContainerCli
{
    public const string FakeInspectVariable = "CDE_FAKE_DOCKER_INSPECT";

    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);

    private const string FakeDockerScript = """
        #!/bin/sh
        # Stands in for the Docker CLI: read-configuration only lists and inspects containers.
        case "$1" in
          ps) if [ -n "$CDE_FAKE_DOCKER_INSPECT" ]; then echo cde-fake-container; fi ;;
          inspect) exec cat "$CDE_FAKE_DOCKER_INSPECT" ;;
          *) echo "fake docker: unexpected command: $*" >&2; exit 1 ;;
        esac
        """;

    public static string BinaryPath =>
        Path.Combine(RepositoryRoot.Path, "tools", "devcontainer-cli", "node_modules", ".bin", "devcontainer");

    /// <summary>Fails the test (never skips it) when the CLI or Node.js is missing.</summary>
    public static string RequireInstalled()
    {
        if (!File.Exists(BinaryPath))
        {
            Assert.Fail($"The devcontainer reference CLI is not installed ({BinaryPath} is missing). "
                + "Run scripts/install-node-tools.sh from the repository root (needs node and npm).");
        }
        return FindNodeFolder() ?? throw new InvalidOperationException(
            "Node.js ('node') is not on PATH; the devcontainer reference CLI needs it.");
    }

    /// <summary>The PATH the CLI is run with: Node.js's folder, then the system folders.</summary>
    public static string CliSearchPath(string nodeFolder) => $"{nodeFolder}:/usr/local/bin:/usr/bin:/bin";

    /// <param name="environment">The CLI's complete environment: what <c>${localEnv:...}</c> sees.</param>
    /// <param name="configFile">The configuration the fake container's labels name.</param>
    /// <param name="explicitConfig">Passed as <c>--config</c> (for <c>.devcontainer/&lt;name&gt;/</c> configurations,
    /// which the CLI does not look for by itself).</param>
    /// <param name="containerEnvironment">Non-null to present a running container with this environment; then
    /// <paramref name="environment"/> must point <see cref="FakeInspectVariable"/> at <see cref="FakeInspectPath"/>.</param>
    public static CliResult ReadConfiguration(string workspaceFolder, string configFile, string? explicitConfig,
        IReadOnlyDictionary<string, string> environment, IReadOnlyDictionary<string, string>? containerEnvironment,
        string scratchFolder)
    {
        var fakeDocker = Path.Combine(scratchFolder, "fake-docker");
        File.WriteAllText(fakeDocker, FakeDockerScript.Replace("\r\n", "\n") + "\n");
        // The CLI only exists for Unix-like hosts here (the script is a POSIX shell script).
        if (OperatingSystem.IsWindows())
        {
            throw new PlatformNotSupportedException("The conformance tests need a Unix-like host.");
        }
        File.SetUnixFileMode(fakeDocker, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);

        var start = new ProcessStartInfo(BinaryPath)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = workspaceFolder,
        };
        foreach (var arg in new[]
        {
            "read-configuration", "--workspace-folder", workspaceFolder, "--docker-path", fakeDocker,
            // Our loader takes the repository folder as the workspace root; the CLI would look for a Git root above it.
            "--mount-workspace-git-root", "false",
        })
        {
            start.ArgumentList.Add(arg);
        }
        if (explicitConfig is not null)
        {
            start.ArgumentList.Add("--config");
            start.ArgumentList.Add(explicitConfig);
        }
        start.Environment.Clear();
        foreach (var (name, value) in environment)
        {
            start.Environment[name] = value;
        }
        if (containerEnvironment is not null)
        {
            var inspect = FakeInspectPath(scratchFolder);
            if (!environment.TryGetValue(FakeInspectVariable, out var named) || named != inspect)
            {
                throw new InvalidOperationException($"The environment must set {FakeInspectVariable}={inspect}.");
            }
            File.WriteAllText(inspect, FakeInspect(workspaceFolder, configFile, containerEnvironment));
        }

        using var process = Process.Start(start) ?? throw new InvalidOperationException("Could not start the devcontainer CLI.");
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(Timeout))
        {
            process.Kill(entireProcessTree: true);
            Assert.Fail($"devcontainer read-configuration did not finish within {Timeout.TotalSeconds} s.");
        }
        process.WaitForExit();
        if (process.ExitCode != 0)
        {
            Assert.Fail($"devcontainer read-configuration exited with {process.ExitCode}:\n{stderr.Result}\n{stdout.Result}");
        }
        var output = stdout.Result;
        var json = output[output.IndexOf('{')..];
        using var document = JsonDocument.Parse(json);
        var root = document.RootElement;
        return new CliResult(root.GetProperty("configuration").Clone(), root.GetProperty("workspace").Clone());
    }

    /// <summary>The inspect file's path for a scratch folder, so callers can put it in the environment
    /// both sides see before the CLI runs.</summary>
    public static string FakeInspectPath(string scratchFolder) => Path.Combine(scratchFolder, "inspect.json");

    private static string FakeInspect(string workspaceFolder, string configFile, IReadOnlyDictionary<string, string> environment) =>
        JsonSerializer.Serialize(new[]
        {
            new
            {
                Id = "cde-fake-container",
                Created = "2026-01-01T00:00:00Z",
                State = new { Status = "running", StartedAt = "2026-01-01T00:00:00Z" },
                Config = new
                {
                    Env = environment.Select(kv => $"{kv.Key}={kv.Value}").ToArray(),
                    Labels = new Dictionary<string, string>
                    {
                        [DevContainerId.LocalFolderLabel] = workspaceFolder,
                        [DevContainerId.ConfigFileLabel] = configFile,
                    },
                },
                NetworkSettings = new { Ports = new Dictionary<string, object>() },
            },
        });

    private static string? FindNodeFolder()
    {
        foreach (var folder in (Environment.GetEnvironmentVariable("PATH") ?? string.Empty).Split(':', StringSplitOptions.RemoveEmptyEntries))
        {
            if (File.Exists(Path.Combine(folder, "node")))
            {
                return folder;
            }
        }
        return null;
    }
}
