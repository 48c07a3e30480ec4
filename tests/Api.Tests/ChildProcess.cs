using System.Diagnostics;
using System.Text;

namespace CloudDevEnv.Api.Tests;

/// <summary>A process a test starts and owns: its output kept for failure messages, each line offered to a watcher, and
/// ended (by its own id, with what it started) when disposed.</summary>
public sealed class ChildProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly StringBuilder _output = new();

    private ChildProcess(Process process) => _process = process;

    public string Output
    {
        get
        {
            lock (_output)
            {
                return _output.ToString();
            }
        }
    }

    public bool HasExited => _process.HasExited;

    public int ExitCode => _process.ExitCode;

    /// <param name="onLine">Called with every line of standard output and error, on the reader's thread.</param>
    public static ChildProcess Start(ProcessStartInfo start, Action<string>? onLine = null)
    {
        start.RedirectStandardOutput = true;
        start.RedirectStandardError = true;
        var child = new ChildProcess(Process.Start(start)!);
        DataReceivedEventHandler append = (_, e) =>
        {
            if (e.Data is null)
            {
                return;
            }

            lock (child._output)
            {
                child._output.AppendLine(e.Data);
            }

            onLine?.Invoke(e.Data);
        };
        child._process.OutputDataReceived += append;
        child._process.ErrorDataReceived += append;
        child._process.BeginOutputReadLine();
        child._process.BeginErrorReadLine();
        return child;
    }

    public Task WaitForExitAsync(CancellationToken cancellationToken) => _process.WaitForExitAsync(cancellationToken);

    /// <summary>SIGKILL to the process alone: no shutdown hooks, no flushing.</summary>
    public async Task KillAsync()
    {
        _process.Kill(entireProcessTree: false);
        await _process.WaitForExitAsync();
    }

    /// <summary>SIGTERM, as an operator's Ctrl-C or a container stop: the process shuts down in order; killed if it
    /// has not ended within <paramref name="grace"/>.</summary>
    public async Task TerminateAsync(TimeSpan grace)
    {
        if (_process.HasExited)
        {
            return;
        }

        _ = Signal(_process.Id, 15);
        using var timeout = new CancellationTokenSource(grace);
        try
        {
            await _process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            await KillAsync();
        }
    }

    public int Id => _process.Id;

    [System.Runtime.InteropServices.DllImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static extern int Signal(int pid, int signal);

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
        }

        _process.Dispose();
    }
}
