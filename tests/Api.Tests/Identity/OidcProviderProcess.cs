using System.Diagnostics;
using System.Text;
using CloudDevEnv.DevContainers.Tests.ReferenceCli;

namespace CloudDevEnv.Api.Tests.Identity;

/// <summary>A real OpenID Connect provider (the npm package oidc-provider, installed by scripts/install-node-tools.sh)
/// on loopback, in its own node process: <c>tools/oidc-provider/server.mjs</c>.</summary>
public sealed class OidcProviderProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly StringBuilder _output = new();

    private OidcProviderProcess(Process process, Uri issuer)
    {
        _process = process;
        Issuer = issuer;
    }

    public Uri Issuer { get; }

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

    /// <param name="clients">Client metadata as oidc-provider takes it.</param>
    /// <param name="admins">Logins whose <c>groups</c> claim holds <c>cde-admins</c>.</param>
    public static async Task<OidcProviderProcess> StartAsync(int port, object[] clients, params string[] admins)
    {
        var folder = Path.Combine(RepositoryRoot.Path, "tools", "oidc-provider");
        Assert.True(Directory.Exists(Path.Combine(folder, "node_modules", "oidc-provider")),
            $"oidc-provider is not installed in {folder}: run scripts/install-node-tools.sh (./test.sh does).");
        var start = new ProcessStartInfo("node", "server.mjs")
        {
            WorkingDirectory = folder,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        start.Environment["PORT"] = port.ToString(System.Globalization.CultureInfo.InvariantCulture);
        start.Environment["CLIENTS"] = JsonSerializer.Serialize(clients);
        start.Environment["ADMINS"] = string.Join(',', admins);

        var provider = new OidcProviderProcess(Process.Start(start)!, new Uri($"http://127.0.0.1:{port}"));
        var listening = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        provider._process.OutputDataReceived += (_, e) =>
        {
            provider.Append(e.Data);
            if (e.Data?.Contains("listening", StringComparison.Ordinal) == true)
            {
                listening.TrySetResult();
            }
        };
        provider._process.ErrorDataReceived += (_, e) => provider.Append(e.Data);
        provider._process.BeginOutputReadLine();
        provider._process.BeginErrorReadLine();

        var exited = provider._process.WaitForExitAsync();
        var first = await Task.WhenAny(listening.Task, exited, Task.Delay(TimeSpan.FromSeconds(30)));
        Assert.True(first == listening.Task, $"oidc-provider did not start:\n{provider.Output}");
        return provider;
    }

    private void Append(string? line)
    {
        if (line is not null)
        {
            lock (_output)
            {
                _output.AppendLine(line);
            }
        }
    }

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
