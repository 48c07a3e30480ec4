using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Reflection;
using System.Text.Json;

namespace CloudDevEnv.LocalStorage.Tests;

/// <summary>Kills a process that writes through <see cref="FileGrainStorage"/> with SIGKILL and checks
/// that what it acknowledged is on disk and that no file is torn.</summary>
/// <remarks>A killed process does not lose the kernel's page cache, so this cannot tell whether the data reached the
/// disk: a missing fsync passes here. <see cref="DurabilityOrderTests"/> checks that, from the system calls made.</remarks>
public sealed class CrashTests : IDisposable
{
    private const int Grains = 8;
    private const int AcknowledgementsBeforeKill = 400;

    private readonly TempDirectory _directory = new();

    public void Dispose() => _directory.Dispose();

    [Fact]
    public async Task Every_acknowledged_write_survives_a_kill_and_no_file_is_torn()
    {
        var acknowledged = new ConcurrentDictionary<int, int>();
        var count = 0;
        var enough = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        using var writer = StartCrashWriter();
        writer.OutputDataReceived += (_, line) =>
        {
            if (line.Data is not { } data)
            {
                return;
            }

            var parts = data.Split(' ');
            var (grain, version) = (int.Parse(parts[0], CultureInfo.InvariantCulture), int.Parse(parts[1], CultureInfo.InvariantCulture));
            acknowledged.AddOrUpdate(grain, version, (_, previous) => Math.Max(previous, version));
            if (Interlocked.Increment(ref count) >= AcknowledgementsBeforeKill && acknowledged.Count == Grains)
            {
                enough.TrySetResult();
            }
        };
        var errors = writer.StandardError.ReadToEndAsync();
        writer.BeginOutputReadLine();

        var finished = await Task.WhenAny(enough.Task, writer.WaitForExitAsync(), Task.Delay(TimeSpan.FromSeconds(20)));
        Assert.True(finished == enough.Task, $"the writer stopped or stalled after {count} writes: {(writer.HasExited ? await errors : "")}");
        writer.Kill(); // SIGKILL: no finalizers, no flushing, writes cut wherever they are
        await writer.WaitForExitAsync(); // also drains the acknowledgements still in the pipe

        var folder = Path.Combine(_directory.Path, "grains", "crash");
        var files = Directory.GetFiles(folder, "*.json");
        Assert.Equal(Grains, files.Length);
        foreach (var file in files)
        {
            var record = GrainStateRecord.Parse(await File.ReadAllBytesAsync(file)); // throws if torn
            using var payload = JsonDocument.Parse(record.Payload);
            var version = payload.RootElement.GetProperty("Version").GetInt32();
            var grain = int.Parse(record.GrainId[(record.GrainId.LastIndexOf('/') + 1)..], CultureInfo.InvariantCulture);

            Assert.Equal(record.Version, version);
            Assert.Equal(1000 + version * 37 % 4000, payload.RootElement.GetProperty("Filler").GetString()!.Length);
            var acked = acknowledged.GetValueOrDefault(grain);
            // The write in flight at the kill may have landed without being acknowledged: one ahead at most.
            Assert.InRange(version, acked, acked + 1);
        }

        // A restart sweeps what the killed writes left half-done.
        Storage.Grains(_directory.Path).DeleteTemporaryFiles();
        Assert.Empty(Directory.GetFiles(folder, "*.tmp"));
    }

    /// <summary>The built crash writer (a process of its own, so that it can be killed or traced).</summary>
    internal static string CrashWriterPath()
    {
        var path = typeof(CrashTests).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>()
            .Single(attribute => attribute.Key == "CrashWriterPath").Value!;
        Assert.True(File.Exists(path), $"crash writer not built at {path}");
        return path;
    }

    private Process StartCrashWriter()
    {
        var path = CrashWriterPath();

        var start = new ProcessStartInfo(Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") ?? "dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add(path);
        start.ArgumentList.Add(_directory.Path);
        start.ArgumentList.Add(Grains.ToString(CultureInfo.InvariantCulture));
        return Process.Start(start)!;
    }
}
