using System.Diagnostics;
using CloudDevEnv.DevContainers.Tests.ReferenceCli;

namespace CloudDevEnv.Api.Tests.Identity;

/// <summary>A real OpenID Connect provider (the npm package oidc-provider, installed by scripts/install-node-tools.sh)
/// on loopback, in its own node process: <c>tools/oidc-provider/server.mjs</c>.</summary>
public sealed class OidcProviderProcess : IAsyncDisposable
{
    private readonly ChildProcess _process;

    private OidcProviderProcess(ChildProcess process, Uri issuer)
    {
        _process = process;
        Issuer = issuer;
    }

    public Uri Issuer { get; }

    public string Output => _process.Output;

    /// <param name="clients">Client metadata as oidc-provider takes it.</param>
    /// <param name="admins">Logins whose <c>groups</c> claim holds <c>cde-admins</c>.</param>
    public static async Task<OidcProviderProcess> StartAsync(int port, object[] clients, params string[] admins)
    {
        var folder = Path.Combine(RepositoryRoot.Path, "tools", "oidc-provider");
        Assert.True(Directory.Exists(Path.Combine(folder, "node_modules", "oidc-provider")),
            $"oidc-provider is not installed in {folder}: run scripts/install-node-tools.sh (./test.sh does).");
        var start = new ProcessStartInfo("node", "server.mjs") { WorkingDirectory = folder };
        start.Environment["PORT"] = port.ToString(System.Globalization.CultureInfo.InvariantCulture);
        start.Environment["CLIENTS"] = JsonSerializer.Serialize(clients);
        start.Environment["ADMINS"] = string.Join(',', admins);

        var listening = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var provider = new OidcProviderProcess(
            ChildProcess.Start(start, line =>
            {
                if (line.Contains("listening", StringComparison.Ordinal))
                {
                    listening.TrySetResult();
                }
            }),
            new Uri($"http://127.0.0.1:{port}"));

        var exited = provider._process.WaitForExitAsync(CancellationToken.None);
        var first = await Task.WhenAny(listening.Task, exited, Task.Delay(TimeSpan.FromSeconds(30)));
        Assert.True(first == listening.Task, $"oidc-provider did not start:\n{provider.Output}");
        return provider;
    }

    public ValueTask DisposeAsync() => _process.DisposeAsync();
}
