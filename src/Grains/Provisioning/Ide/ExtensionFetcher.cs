using System.IO.Compression;
using System.Net;
using System.Runtime.InteropServices;
using System.Text.Json;

namespace CloudDevEnv.Grains.Provisioning.Ide;

/// <summary>Finds an extension's <c>.vsix</c> on the control plane's side: the operator's folder first, then the
/// cache, then the Open VSX-compatible registry (its metadata, then its download, kept in the cache). Every answer
/// is bounded in size and time, and a file that is not an extension package is refused before it reaches a
/// workspace.</summary>
public sealed partial class ExtensionFetcher(IOptions<IdeOptions> options, ILogger<ExtensionFetcher> logger)
{
    private static readonly HttpClient Http = new(new SocketsHttpHandler
    {
        UseProxy = false,
        AllowAutoRedirect = true,
        MaxAutomaticRedirections = 5,
        ConnectTimeout = TimeSpan.FromSeconds(15),
    })
    {
        Timeout = Timeout.InfiniteTimeSpan,
    };

    /// <summary>The platform an Open VSX registry names for this machine's engine.</summary>
    private static readonly string TargetPlatform = RuntimeInformation.OSArchitecture == Architecture.Arm64 ? "linux-arm64" : "linux-x64";

    private IdeOptions Options => options.Value;

    /// <returns>The path of the package, or null with <paramref name="problem"/> saying why there is none.</returns>
    public async Task<(string? Path, string? Problem)> FetchAsync(ExtensionId extension, CancellationToken cancellationToken)
    {
        if (FromFolder(extension) is { } packaged)
        {
            return (packaged, null);
        }

        if (string.IsNullOrEmpty(Options.ExtensionRegistry))
        {
            var cached = FromCache(extension, extension.Version);
            return cached is not null
                ? (cached, null)
                : (null, Options.ExtensionsFolder is null
                    ? "no extension registry is configured (Ide:ExtensionRegistry)"
                    : $"it is not in {Options.ExtensionsFolder} (Ide:ExtensionsFolder) and no extension registry is configured (Ide:ExtensionRegistry)");
        }

        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(Options.FetchTimeout);
        try
        {
            return await FromRegistryAsync(extension, new Uri(Options.ExtensionRegistry.TrimEnd('/') + "/"), timeout.Token);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return Offline(extension, $"the registry gave no answer within {Options.FetchTimeout.TotalSeconds:0} s (Ide:FetchTimeout)");
        }
        catch (HttpRequestException e)
        {
            return Offline(extension, $"the registry cannot be reached ({e.Message})");
        }
    }

    /// <summary>The registry is down: a cached copy of the version asked for (any version, when none is) still serves.</summary>
    private (string? Path, string? Problem) Offline(ExtensionId extension, string problem) =>
        FromCache(extension, extension.Version) is { } cached ? (cached, null) : (null, problem);

    private async Task<(string? Path, string? Problem)> FromRegistryAsync(ExtensionId extension, Uri registry, CancellationToken cancellationToken)
    {
        var path = $"api/{extension.Publisher}/{extension.Name}";
        var metadata = await MetadataAsync(new Uri(registry, extension.Version is null ? path : $"{path}/{extension.Version}"), cancellationToken);
        if (metadata.Problem is not null)
        {
            return (null, metadata.Problem);
        }

        // A platform-specific extension: the registry's default answer may be another platform's build.
        if (metadata.Platform is { } platform && platform != "universal" && platform != TargetPlatform)
        {
            metadata = await MetadataAsync(new Uri(registry, $"{path}/{TargetPlatform}/{metadata.Version}"), cancellationToken);
            if (metadata.Problem is not null)
            {
                return (null, $"there is no {TargetPlatform} build of it ({metadata.Problem})");
            }
        }

        if (FromCache(extension, metadata.Version) is { } cached)
        {
            return (cached, null);
        }

        using var response = await Http.GetAsync(metadata.Download, HttpCompletionOption.ResponseHeadersRead, cancellationToken);
        if (!response.IsSuccessStatusCode)
        {
            return (null, $"its download answered {(int)response.StatusCode} {response.ReasonPhrase}");
        }

        if (response.Content.Headers.ContentLength > Options.MaxExtensionBytes)
        {
            return (null, $"it is larger than {Options.MaxExtensionBytes} bytes (Ide:MaxExtensionBytes)");
        }

        var folder = CacheFolder;
        Directory.CreateDirectory(folder);
        var partial = Path.Combine(folder, $".{Guid.NewGuid():N}.partial");
        try
        {
            await using (var file = File.Create(partial))
            await using (var body = await response.Content.ReadAsStreamAsync(cancellationToken))
            {
                var buffer = new byte[81920];
                long total = 0;
                int read;
                while ((read = await body.ReadAsync(buffer, cancellationToken)) > 0)
                {
                    if ((total += read) > Options.MaxExtensionBytes)
                    {
                        return (null, $"it is larger than {Options.MaxExtensionBytes} bytes (Ide:MaxExtensionBytes)");
                    }

                    await file.WriteAsync(buffer.AsMemory(0, read), cancellationToken);
                }
            }

            if (NotAPackage(partial) is { } problem)
            {
                return (null, $"the registry's file {problem}");
            }

            var kept = Path.Combine(folder, FileName(extension, metadata.Version!));
            File.Move(partial, kept, overwrite: true);
            LogFetched(extension.Id, metadata.Version!);
            return (kept, null);
        }
        finally
        {
            File.Delete(partial);
        }
    }

    private static async Task<(string? Version, Uri? Download, string? Platform, string? Problem)> MetadataAsync(Uri url, CancellationToken cancellationToken)
    {
        using var response = await Http.GetAsync(url, HttpCompletionOption.ResponseHeadersRead, cancellationToken);
        if (response.StatusCode == HttpStatusCode.NotFound)
        {
            return (null, null, null, "the registry does not have it");
        }

        if (!response.IsSuccessStatusCode || response.Content.Headers.ContentLength > 4 * 1024 * 1024)
        {
            return (null, null, null, $"the registry answered {(int)response.StatusCode} {response.ReasonPhrase}");
        }

        try
        {
            using var document = JsonDocument.Parse(await response.Content.ReadAsStringAsync(cancellationToken));
            var root = document.RootElement;
            if (root.TryGetProperty("error", out var error) && error.ValueKind == JsonValueKind.String)
            {
                return (null, null, null, $"the registry says: {error.GetString()}");
            }

            var version = root.GetProperty("version").GetString();
            var download = root.GetProperty("files").GetProperty("download").GetString();
            var platform = root.TryGetProperty("targetPlatform", out var p) ? p.GetString() : null;
            return version is null || !ExtensionId.TryParse($"a.b@{version}", out _)
                    || !Uri.TryCreate(url, download, out var downloadUrl) || downloadUrl.Scheme is not ("http" or "https")
                ? (null, null, null, "the registry's answer names no version and download")
                : (version, downloadUrl, platform, null);
        }
        catch (Exception e) when (e is JsonException or KeyNotFoundException or InvalidOperationException)
        {
            return (null, null, null, $"the registry's answer is not Open VSX metadata ({e.Message})");
        }
    }

    private string? FromFolder(ExtensionId extension) =>
        Options.ExtensionsFolder is { Length: > 0 } folder ? Find(folder, extension, extension.Version) : null;

    private string CacheFolder => Options.CacheFolder is { Length: > 0 } folder ? folder : Path.Combine(Path.GetTempPath(), "clouddevenv-extensions");

    private string? FromCache(ExtensionId extension, string? version) => Find(CacheFolder, extension, version);

    /// <summary><c>id-version.vsix</c>, or with no version asked the newest such file, or <c>id.vsix</c>.</summary>
    private static string? Find(string folder, ExtensionId extension, string? version)
    {
        if (!Directory.Exists(folder))
        {
            return null;
        }

        if (version is not null)
        {
            var exact = Path.Combine(folder, FileName(extension, version));
            return File.Exists(exact) ? exact : null;
        }

        var prefix = extension.Id + "-";
        var newest = Directory.EnumerateFiles(folder, "*.vsix")
            .Select(path => (Path: path, Name: Path.GetFileNameWithoutExtension(path).ToLowerInvariant()))
            .Where(f => f.Name.StartsWith(prefix, StringComparison.Ordinal) && Version.TryParse(VersionCore(f.Name[prefix.Length..]), out _))
            .OrderByDescending(f => Version.Parse(VersionCore(f.Name[prefix.Length..])))
            .Select(f => f.Path)
            .FirstOrDefault();
        var plain = Path.Combine(folder, extension.Id + ".vsix");
        return newest ?? (File.Exists(plain) ? plain : null);
    }

    private static string VersionCore(string version)
    {
        var core = version.Split('-', 2)[0];
        return core.Contains('.', StringComparison.Ordinal) ? core : core + ".0";
    }

    private static string FileName(ExtensionId extension, string version) => $"{extension.Id}-{version}.vsix";

    /// <summary>A .vsix is a zip holding <c>extension/package.json</c>; anything else would only fail in the workspace.</summary>
    internal static string? NotAPackage(string path)
    {
        try
        {
            using var zip = ZipFile.OpenRead(path);
            return zip.GetEntry("extension/package.json") is null ? "holds no extension/package.json: it is not a .vsix" : null;
        }
        catch (InvalidDataException)
        {
            return "is not a .vsix (not a zip archive)";
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Fetched the IDE extension {Extension} {Version}")]
    private partial void LogFetched(string extension, string version);
}
