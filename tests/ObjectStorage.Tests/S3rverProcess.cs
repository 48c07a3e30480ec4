using System.Diagnostics;
using System.Globalization;
using System.Net.Sockets;
using System.Text;
using System.Text.RegularExpressions;
using CloudDevEnv.DevContainers.Tests.ReferenceCli;

namespace CloudDevEnv.ObjectStorage.Tests;

/// <summary>One request as s3rver logged it: method, path and query, status.</summary>
public sealed record S3rverRequest(string Method, string Target, int Status, int Milliseconds);

/// <summary>A real S3-protocol server, the npm package s3rver (pinned in tools/s3rver, installed by
/// scripts/install-node-tools.sh), in its own node process on a loopback port, keeping its buckets in
/// <see cref="Directory"/> as plain files. Its request log is kept, so that a test can ask the server what it was sent.</summary>
public sealed partial class S3rverProcess : IAsyncDisposable
{
    /// <summary>s3rver's own credentials (it accepts no others): its built-in account S3RVER / S3RVER.</summary>
    public const string AccessKey = "S3RVER";

    public const string SecretKey = "S3RVER";

    private readonly Process _process;
    private readonly StringBuilder _output = new();
    private readonly List<S3rverRequest> _requests = [];
    private bool _disposed;

    private S3rverProcess(Process process, string directory, int port)
    {
        _process = process;
        Directory = directory;
        Port = port;
    }

    public string Directory { get; }

    public int Port { get; }

    public string ServiceUrl => $"http://127.0.0.1:{Port.ToString(CultureInfo.InvariantCulture)}";

    public int ProcessId => _process.Id;

    public bool HasExited => _process.HasExited;

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

    /// <summary>Every request served so far, in order.</summary>
    public IReadOnlyList<S3rverRequest> Requests
    {
        get
        {
            lock (_output)
            {
                return [.. _requests];
            }
        }
    }

    /// <summary>Where the request log stands once every request answered so far is in it: s3rver logs a request when its
    /// answer is sent, and its output reaches this process a moment later. A marker request (answered 404) is sent and
    /// waited for; the requests after the returned index are those made after this call.</summary>
    public async Task<int> MarkAsync()
    {
        var marker = "/cde-log-mark-" + Guid.NewGuid().ToString("N");
        using (var http = new HttpClient())
        {
            using var _ = await http.GetAsync(ServiceUrl + marker);
        }

        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(10);
        while (true)
        {
            var requests = Requests;
            for (var i = requests.Count - 1; i >= 0; i--)
            {
                if (requests[i].Target == marker)
                {
                    return i + 1;
                }
            }

            Assert.True(DateTime.UtcNow < deadline, $"s3rver did not log the request {marker}:\n{Output}");
            await Task.Delay(10);
        }
    }

    /// <summary>The requests made since <paramref name="mark"/> (from <see cref="MarkAsync"/>), every one of them logged.</summary>
    public async Task<List<S3rverRequest>> RequestsSinceAsync(int mark)
    {
        var end = await MarkAsync() - 1;
        return [.. Requests.Take(end).Skip(mark)];
    }

    /// <summary>The lines s3rver logged so far (colour codes removed).</summary>
    public IReadOnlyList<string> Lines => Output.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);

    /// <summary>The package's entry point, or a failure saying how to install it.</summary>
    public static string Script
    {
        get
        {
            var script = Path.Combine(RepositoryRoot.Path, "tools", "s3rver", "node_modules", "s3rver", "bin", "s3rver.js");
            Assert.True(File.Exists(script), $"s3rver is not installed ({script} is missing): run scripts/install-node-tools.sh (./test.sh does).");
            return script;
        }
    }

    /// <summary>Starts s3rver on <paramref name="port"/> with its data in <paramref name="directory"/> (kept: a restart
    /// on the same folder finds the same objects), creating <paramref name="buckets"/>; returns once the port answers.</summary>
    public static async Task<S3rverProcess> StartAsync(string directory, int port, params string[] buckets)
    {
        var start = new ProcessStartInfo("node")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        // s3rver 3.7.1 makes its ListObjectsV2 continuation tokens with DES, which OpenSSL 3 (Node 17 and later) keeps in
        // its legacy provider: without it, every listing past the first page fails with a 500.
        start.ArgumentList.Add("--openssl-legacy-provider");
        start.ArgumentList.Add(Script);
        foreach (var argument in new[] { "--address", "127.0.0.1", "--port", port.ToString(CultureInfo.InvariantCulture), "--directory", directory })
        {
            start.ArgumentList.Add(argument);
        }

        foreach (var bucket in buckets)
        {
            start.ArgumentList.Add("--configure-bucket");
            start.ArgumentList.Add(bucket);
        }

        // Not --silent: the request log is how the tests ask the server what it was sent. Its request lines lose their
        // method and path unless coloured (koa-logger's line is cut at a fixed offset that assumes colour codes).
        start.Environment["FORCE_COLOR"] = "1";
        var server = new S3rverProcess(Process.Start(start) ?? throw new InvalidOperationException("node did not start"), directory, port);
        server._process.OutputDataReceived += (_, e) => server.Append(e.Data);
        server._process.ErrorDataReceived += (_, e) => server.Append(e.Data);
        server._process.BeginOutputReadLine();
        server._process.BeginErrorReadLine();

        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (true)
        {
            if (server._process.HasExited)
            {
                throw new InvalidOperationException($"s3rver exited with {server._process.ExitCode} before it listened on port {port}:\n{server.Output}");
            }

            if (server.Output.Contains("S3rver listening on", StringComparison.Ordinal) && await AnswersAsync(port))
            {
                return server;
            }

            if (DateTime.UtcNow > deadline)
            {
                await server.DisposeAsync();
                throw new TimeoutException($"s3rver did not answer on port {port} within 30 s:\n{server.Output}");
            }

            await Task.Delay(50);
        }
    }

    private static async Task<bool> AnswersAsync(int port)
    {
        try
        {
            using var client = new TcpClient();
            await client.ConnectAsync(System.Net.IPAddress.Loopback, port);
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }

    private void Append(string? line)
    {
        if (line is null)
        {
            return;
        }

        var plain = AnsiCodes().Replace(line, "");
        lock (_output)
        {
            _output.AppendLine(plain);
            if (RequestLine().Match(plain) is { Success: true } request)
            {
                _requests.Add(new S3rverRequest(request.Groups[1].Value, request.Groups[2].Value, int.Parse(request.Groups[3].Value, CultureInfo.InvariantCulture),
                    !request.Groups[4].Success ? 0
                        : (int)(double.Parse(request.Groups[4].Value.Replace(",", "", StringComparison.Ordinal), CultureInfo.InvariantCulture) * (request.Groups[5].Value == "s" ? 1000 : 1))));
            }
        }
    }

    /// <summary>Ends the server, as a crash or an outage would: SIGKILL to this process (by its id) alone.</summary>
    public async Task StopAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: false);
        }

        await _process.WaitForExitAsync();
    }

    public async ValueTask DisposeAsync()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        await StopAsync();
        _process.Dispose();
    }

    [GeneratedRegex(@"\x1b\[[0-9;]*m")]
    private static partial Regex AnsiCodes();

    // "info: PUT /bucket/key?partNumber=1&uploadId=… 200 12ms -", "… 200 5,163ms 384b"; koa-logger writes "12s" from 10 s on.
    [GeneratedRegex(@"^info: (GET|PUT|POST|DELETE|HEAD) (\S+) (\d{3}) (?:(\d[\d,]*(?:\.\d+)?)(ms|s)\b)?")]
    private static partial Regex RequestLine();
}
