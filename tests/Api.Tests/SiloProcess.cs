using System.Diagnostics;
using CloudDevEnv.DevContainers.Tests.ReferenceCli;

namespace CloudDevEnv.Api.Tests;

/// <summary>The local-mode host as its own process, started from its build output, so that a test can
/// kill it with SIGKILL and start it again on the same data folder.</summary>
public sealed class SiloProcess : IAsyncDisposable
{
    private readonly ChildProcess _process;

    private SiloProcess(ChildProcess process, Uri api)
    {
        _process = process;
        Api = api;
    }

    public Uri Api { get; }

    public string Output => _process.Output;

    /// <param name="workingDirectory">Where the process starts (as a user's shell may be anywhere); default: beside the host.</param>
    public static async Task<SiloProcess> StartAsync(
        string dataDir, int[] ports, IReadOnlyDictionary<string, string>? environment = null, string? workingDirectory = null)
    {
        var silo = Launch(dataDir, ports, environment, workingDirectory);
        await silo.WaitUntilReadyAsync();
        return silo;
    }

    /// <summary>Starts the host and waits for it to exit by itself (a refused start).</summary>
    public static async Task<(int ExitCode, string Output)> RunUntilExitAsync(string dataDir, int[] ports)
    {
        await using var silo = Launch(dataDir, ports, null);
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        await silo._process.WaitForExitAsync(timeout.Token);
        return (silo._process.ExitCode, silo.Output);
    }

    private static SiloProcess Launch(string dataDir, int[] ports, IReadOnlyDictionary<string, string>? environment, string? workingDirectory = null)
    {
        var dll = Path.Combine(RepositoryRoot.Path, "src", "Silo", "bin", Configuration(), "net10.0", "CloudDevEnv.Silo.dll");
        Assert.True(File.Exists(dll), $"The host is not built: {dll} is missing (run ./test.sh, which builds the solution first).");

        var start = new ProcessStartInfo("dotnet")
        {
            ArgumentList =
            {
                dll,
                $"--Host:ApiUrl=http://127.0.0.1:{ports[0]}",
                $"--Host:ProxyUrl=http://127.0.0.1:{ports[1]}",
                $"--Host:SiloPort={ports[2]}",
                $"--Host:GatewayPort={ports[3]}",
                $"--Proxy:PublicPort={ports[1]}",
            },
            WorkingDirectory = workingDirectory ?? Path.GetDirectoryName(dll)!,
        };
        start.Environment["CDE_DATA_DIR"] = dataDir;
        start.Environment["ASPNETCORE_ENVIRONMENT"] = "Production";
        foreach (var (name, value) in environment ?? new Dictionary<string, string>())
        {
            start.Environment[name] = value;
        }

        return new SiloProcess(ChildProcess.Start(start), new Uri($"http://127.0.0.1:{ports[0]}"));
    }

    /// <summary>SIGKILL: no shutdown hooks, no flushing.</summary>
    public Task KillAsync() => _process.KillAsync();

    public ValueTask DisposeAsync() => _process.DisposeAsync();

    private async Task WaitUntilReadyAsync()
    {
        using var http = new HttpClient { BaseAddress = Api, Timeout = TimeSpan.FromSeconds(5) };
        var deadline = DateTime.UtcNow.AddSeconds(90);
        while (DateTime.UtcNow < deadline)
        {
            Assert.False(_process.HasExited, $"The host exited with code {(_process.HasExited ? _process.ExitCode : 0)}:\n{Output}");
            try
            {
                if ((await http.GetAsync("/readyz")).IsSuccessStatusCode)
                {
                    return;
                }
            }
            catch (HttpRequestException)
            {
                // Not listening yet.
            }
            catch (TaskCanceledException)
            {
                // Starting.
            }

            await Task.Delay(200);
        }

        Assert.Fail($"The host did not become ready in 90 s:\n{Output}");
    }

    private static string Configuration() =>
        AppContext.BaseDirectory.Contains($"{Path.DirectorySeparatorChar}Release{Path.DirectorySeparatorChar}", StringComparison.Ordinal) ? "Release" : "Debug";
}
