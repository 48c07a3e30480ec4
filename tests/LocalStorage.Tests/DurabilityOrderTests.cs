using System.Diagnostics;
using System.Globalization;
using System.Text.RegularExpressions;

namespace CloudDevEnv.LocalStorage.Tests;

/// <summary>What makes a write survive a power cut, read from the system calls the storage makes (under strace): the
/// new content goes to a temporary file that is fsynced before it is renamed over the state file, the folder is fsynced
/// after the rename, and only then is the write acknowledged. A crash of the process alone cannot show a missing fsync
/// (the page cache survives it); this can, and fails if any of the three steps is left out or reordered.</summary>
public sealed partial class DurabilityOrderTests : IDisposable
{
    private const int Versions = 5;

    private readonly TempDirectory _directory = new();

    public void Dispose() => _directory.Dispose();

    [Fact]
    public async Task Each_write_is_fsynced_renamed_and_its_folder_fsynced_before_it_is_acknowledged()
    {
        var calls = await TraceCrashWriterAsync();
        var folder = Path.Combine(_directory.Path, "grains", "crash");

        var renames = calls.Select((c, i) => (Call: c, Index: i)).Where(x => x.Call.Name is "rename" or "renameat" or "renameat2").ToList();
        var stateRenames = renames.Where(r => r.Call.Paths.Count == 2 && r.Call.Paths[1].StartsWith(folder + "/", StringComparison.Ordinal)).ToList();
        Assert.Equal(Versions, stateRenames.Count);

        // Acknowledgements are lines on standard output, which .NET writes through a duplicate of descriptor 1.
        HashSet<long> stdout = [1, .. calls.Where(c => c.Fd == 1 && (c.Name is "dup" || (c.Name == "fcntl" && c.Arguments.Contains("F_DUPFD", StringComparison.Ordinal))))
            .Select(c => c.Result)];
        var acknowledgements = calls.Select((c, i) => (Call: c, Index: i)).Where(x => x.Call.Name == "write" && stdout.Contains(x.Call.Fd)).ToList();
        Assert.Equal(Versions, acknowledgements.Count);

        for (var version = 0; version < Versions; version++)
        {
            var (rename, at) = stateRenames[version];
            Assert.Equal(0, rename.Result);
            var temporary = rename.Paths[0];
            Assert.EndsWith(".tmp", temporary, StringComparison.Ordinal);

            // The temporary file: created, written, fsynced while open, then renamed.
            var open = Assert.Single(calls.Take(at), c => c.Name == "openat" && c.Paths.FirstOrDefault() == temporary);
            var opened = calls.IndexOf(open);
            var fd = open.Result;
            var closed = calls.FindIndex(opened + 1, c => c.Name == "close" && c.Fd == fd);
            Assert.True(closed > opened && closed < at, $"the temporary file of write {version + 1} is closed before its rename");
            var written = calls.FindIndex(opened + 1, c => c.Name is "write" or "pwrite64" && c.Fd == fd);
            var synced = calls.FindIndex(opened + 1, c => c.Name is "fsync" or "fdatasync" && c.Fd == fd);
            Assert.True(written > opened && written < closed, $"write {version + 1} writes its temporary file");
            Assert.True(synced > written && synced < closed, $"write {version + 1} fsyncs its temporary file after writing it and before the rename");

            // The folder: opened and fsynced after the rename, before the acknowledgement.
            var acknowledged = acknowledgements[version].Index;
            var folderOpen = calls.FindIndex(at + 1, c => c.Name == "openat" && c.Paths.FirstOrDefault() == folder && c.Result >= 0);
            Assert.True(folderOpen > at && folderOpen < acknowledged, $"write {version + 1} opens its folder after the rename, before it is acknowledged");
            var folderSync = calls.FindIndex(folderOpen + 1, c => c.Name is "fsync" or "fdatasync" && c.Fd == calls[folderOpen].Result);
            Assert.True(folderSync > folderOpen && folderSync < acknowledged, $"write {version + 1} fsyncs its folder before it is acknowledged");
        }
    }

    /// <summary>Runs the crash writer for one grain and a few versions under strace; returns its calls in the order they
    /// began, each with its file descriptor or paths and its result.</summary>
    private async Task<List<SystemCall>> TraceCrashWriterAsync()
    {
        var trace = Path.Combine(_directory.Path, "strace.txt");
        var start = new ProcessStartInfo("strace")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var argument in new[]
        {
            "-f", "-qq", "-s", "0", "-e", "trace=openat,write,pwrite64,fsync,fdatasync,close,rename,renameat,renameat2,fcntl,dup", "-o", trace,
            Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") ?? "dotnet", CrashTests.CrashWriterPath(),
            Path.Combine(_directory.Path), "1", Versions.ToString(CultureInfo.InvariantCulture),
        })
        {
            start.ArgumentList.Add(argument);
        }

        Process writer;
        try
        {
            writer = Process.Start(start)!;
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            throw new InvalidOperationException("strace is not installed (./test.sh installs it with scripts/install-test-packages.sh).", e);
        }

        using (writer)
        {
            var output = writer.StandardOutput.ReadToEndAsync();
            var errors = writer.StandardError.ReadToEndAsync();
            using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(2));
            await writer.WaitForExitAsync(timeout.Token);
            Assert.True(writer.ExitCode == 0, $"strace of the crash writer exited with {writer.ExitCode}: {await errors}");
            Assert.Equal(Versions, (await output).Split('\n', StringSplitOptions.RemoveEmptyEntries).Length);
        }

        return Parse(await File.ReadAllLinesAsync(trace));
    }

    /// <summary>strace -f splits a call that another thread interrupts into "&lt;unfinished ...&gt;" and "&lt;... resumed&gt;"
    /// lines: they are joined, in the order the calls began.</summary>
    internal static List<SystemCall> Parse(IEnumerable<string> lines)
    {
        List<SystemCall> calls = [];
        Dictionary<string, (int Index, string Text)> unfinished = [];
        foreach (var line in lines)
        {
            var space = line.IndexOf(' ', StringComparison.Ordinal);
            if (space < 0)
            {
                continue;
            }

            var pid = line[..space];
            var text = line[(space + 1)..].TrimStart();
            if (text.EndsWith("<unfinished ...>", StringComparison.Ordinal))
            {
                calls.Add(SystemCall.Placeholder);
                unfinished[pid] = (calls.Count - 1, text[..^"<unfinished ...>".Length]);
                continue;
            }

            var resumed = Resumed().Match(text);
            if (resumed.Success && unfinished.Remove(pid, out var begun))
            {
                calls[begun.Index] = SystemCall.From(begun.Text + resumed.Groups["rest"].Value) ?? SystemCall.Placeholder;
                continue;
            }

            if (SystemCall.From(text) is { } call)
            {
                calls.Add(call);
            }
        }

        calls.RemoveAll(c => c == SystemCall.Placeholder);
        return calls;
    }

    [GeneratedRegex(@"^<\.\.\. \w+ resumed>(?<rest>.*)$")]
    private static partial Regex Resumed();

    internal sealed partial record SystemCall(string Name, int Fd, IReadOnlyList<string> Paths, string Arguments, long Result)
    {
        public static readonly SystemCall Placeholder = new("?", -1, [], string.Empty, -1);

        public static SystemCall? From(string text)
        {
            var match = Call().Match(text);
            if (!match.Success)
            {
                return null;
            }

            var arguments = match.Groups["args"].Value;
            var paths = Quoted().Matches(arguments).Select(m => m.Groups[1].Value).ToList();
            var first = arguments.Split(',')[0].Trim();
            var fd = int.TryParse(first, NumberStyles.Integer, CultureInfo.InvariantCulture, out var number) ? number : -1;
            return new SystemCall(match.Groups["name"].Value, fd, paths, arguments, long.Parse(match.Groups["result"].Value, CultureInfo.InvariantCulture));
        }

        [GeneratedRegex(@"^(?<name>\w+)\((?<args>.*)\)\s+=\s+(?<result>-?\d+)")]
        private static partial Regex Call();

        [GeneratedRegex("\"((?:[^\"\\\\]|\\\\.)*)\"")]
        private static partial Regex Quoted();
    }
}
