using System.IO.Compression;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;

namespace CloudDevEnv.Workspaces.Docker.Tests;

/// <summary>A stand-in for an Open VSX registry on loopback: no Open VSX server comes from the package registries this
/// machine may use, so this answers the two requests the platform makes of one (<c>GET /api/{publisher}/{name}[/{version}]</c>
/// for metadata, then the <c>files.download</c> URL it names) with the same JSON shape, serving real .vsix packages that
/// the real code-server installs. It counts the downloads, so a test sees the platform's cache at work.</summary>
public sealed class OpenVsxStandIn : IAsyncDisposable
{
    private readonly HttpListener _listener = new();
    private readonly Dictionary<string, List<string>> _versions = new(StringComparer.Ordinal);
    private readonly Dictionary<string, byte[]> _files = new(StringComparer.Ordinal);
    private readonly Dictionary<string, int> _downloads = new(StringComparer.Ordinal);
    private readonly Task _serving;

    public OpenVsxStandIn()
    {
        var probe = new TcpListener(IPAddress.Loopback, 0);
        probe.Start();
        Port = ((IPEndPoint)probe.LocalEndpoint).Port;
        probe.Stop();
        _listener.Prefixes.Add($"http://127.0.0.1:{Port}/");
        _listener.Start();
        _serving = Task.Run(ServeAsync);
    }

    public int Port { get; }

    public string Url => $"http://127.0.0.1:{Port}";

    /// <summary>Publishes a version (the newest published is the latest).</summary>
    public void Publish(string publisher, string name, string version)
    {
        lock (_files)
        {
            var id = $"{publisher}.{name}";
            _files[$"{id}-{version}.vsix"] = Vsix.Create(publisher, name, version);
            if (!_versions.TryGetValue(id, out var versions))
            {
                _versions[id] = versions = [];
            }

            versions.Add(version);
        }
    }

    public int Downloads(string publisher, string name, string version)
    {
        lock (_files)
        {
            return _downloads.GetValueOrDefault($"{publisher}.{name}-{version}.vsix");
        }
    }

    private async Task ServeAsync()
    {
        while (_listener.IsListening)
        {
            HttpListenerContext context;
            try
            {
                context = await _listener.GetContextAsync();
            }
            catch (Exception e) when (e is HttpListenerException or ObjectDisposedException or InvalidOperationException)
            {
                return;
            }

            using var response = context.Response;
            var parts = context.Request.Url!.AbsolutePath.Trim('/').Split('/');
            byte[] body;
            lock (_files)
            {
                if (parts is ["files", var file] && _files.TryGetValue(file, out var package))
                {
                    _downloads[file] = _downloads.GetValueOrDefault(file) + 1;
                    response.ContentType = "application/octet-stream";
                    body = package;
                }
                else if (parts is ["api", var publisher, var name, ..] && parts.Length <= 4
                    && _versions.TryGetValue($"{publisher}.{name}", out var versions)
                    && (parts.Length == 3 ? versions[^1] : versions.FirstOrDefault(v => v == parts[3])) is { } version)
                {
                    response.ContentType = "application/json";
                    body = JsonSerializer.SerializeToUtf8Bytes(new
                    {
                        @namespace = publisher,
                        name,
                        version,
                        targetPlatform = "universal",
                        files = new { download = $"{Url}/files/{publisher}.{name}-{version}.vsix" },
                    });
                }
                else
                {
                    response.StatusCode = 404;
                    response.ContentType = "application/json";
                    body = Encoding.UTF8.GetBytes($"{{\"error\":\"Extension not found: {string.Join('.', parts.Skip(1))}\"}}");
                }
            }

            response.ContentLength64 = body.Length;
            await response.OutputStream.WriteAsync(body);
        }
    }

    public async ValueTask DisposeAsync()
    {
        _listener.Stop();
        _listener.Close();
        await _serving;
    }
}

/// <summary>A real, minimal VS Code extension package: what <c>vsce package</c> writes for an extension that
/// contributes nothing, with a file to find once installed.</summary>
public static class Vsix
{
    public static byte[] Create(string publisher, string name, string version)
    {
        using var buffer = new MemoryStream();
        using (var zip = new ZipArchive(buffer, ZipArchiveMode.Create, leaveOpen: true))
        {
            Add(zip, "[Content_Types].xml", """
                <?xml version="1.0" encoding="utf-8"?>
                <Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension=".json" ContentType="application/json"/><Default Extension=".vsixmanifest" ContentType="text/xml"/><Default Extension=".txt" ContentType="text/plain"/></Types>
                """);
            Add(zip, "extension.vsixmanifest", $"""
                <?xml version="1.0" encoding="utf-8"?>
                <PackageManifest Version="2.0.0" xmlns="http://schemas.microsoft.com/developer/vsx-schema/2011" xmlns:d="http://schemas.microsoft.com/developer/vsx-schema-design/2011">
                  <Metadata>
                    <Identity Language="en-US" Id="{name}" Version="{version}" Publisher="{publisher}" />
                    <DisplayName>{name}</DisplayName>
                    <Description xml:space="preserve">A test extension.</Description>
                  </Metadata>
                  <Installation><InstallationTarget Id="Microsoft.VisualStudio.Code"/></Installation>
                  <Dependencies/>
                  <Assets><Asset Type="Microsoft.VisualStudio.Code.Manifest" Path="extension/package.json" Addressable="true" /></Assets>
                </PackageManifest>
                """);
            Add(zip, "extension/package.json", JsonSerializer.Serialize(new { name, publisher, version, engines = new { vscode = "^1.60.0" } }));
            Add(zip, "extension/marker.txt", $"{publisher}.{name} {version}\n");
        }

        return buffer.ToArray();
    }

    private static void Add(ZipArchive zip, string path, string content)
    {
        using var writer = new StreamWriter(zip.CreateEntry(path).Open(), new UTF8Encoding(false));
        writer.Write(content);
    }
}
