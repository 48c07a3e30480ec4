using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text.Json;
using System.Text.RegularExpressions;
using CloudDevEnv.DevContainers.Features;

namespace CloudDevEnv.Grains.Provisioning.Features;

/// <summary>Brings a feature's files into a local folder: from an OCI registry (its manifest, then its layer, checked
/// against the manifest's digest; the registry's anonymous bearer-token challenge answered as the reference CLI does),
/// from a tarball URL, or from a folder beside devcontainer.json. Only allow-listed registries and hosts are asked (the
/// control plane fetches them), through the operator's mirrors; every answer is bounded in size and time.</summary>
public sealed partial class FeatureFetcher(IOptions<FeatureOptions> options, ILogger<FeatureFetcher> logger)
{
    private const string ManifestTypes = "application/vnd.oci.image.manifest.v1+json";

    private static readonly HttpClient Http = new(new SocketsHttpHandler
    {
        UseProxy = false,
        // Redirects (a registry's blobs on a CDN) are followed by hand, over https only.
        AllowAutoRedirect = false,
        AutomaticDecompression = DecompressionMethods.None,
        ConnectTimeout = TimeSpan.FromSeconds(15),
    })
    {
        Timeout = Timeout.InfiniteTimeSpan,
    };

    private FeatureOptions Options => options.Value;

    /// <param name="configFolder">The folder of devcontainer.json in the checkout, for local features.</param>
    /// <param name="into">An empty folder the feature's files go into.</param>
    /// <returns>A digest of the feature's content.</returns>
    /// <exception cref="WorkspaceFailure">The feature cannot be fetched: its id and the source's answer say why.</exception>
    public async Task<string> FetchAsync(FeatureReference reference, string configFolder, string into, CancellationToken cancellationToken)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(Options.FetchTimeout);
        try
        {
            return reference.Kind switch
            {
                FeatureSourceKind.Local => CopyLocal(reference, configFolder, into),
                FeatureSourceKind.Tarball => await FetchTarballAsync(reference, into, timeout.Token),
                _ => await FetchOciAsync(reference, into, timeout.Token),
            };
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            throw Failure(reference, $"no answer within {Options.FetchTimeout.TotalSeconds:0} s (DevContainers:FetchTimeout)");
        }
        catch (HttpRequestException e)
        {
            throw Failure(reference, e.Message);
        }
    }

    private async Task<string> FetchOciAsync(FeatureReference reference, string into, CancellationToken cancellationToken)
    {
        var registry = reference.Registry!;
        if (!Options.IsAllowed(registry))
        {
            throw Failure(reference, $"the registry {registry} is not among those this platform fetches features from (DevContainers:AllowedRegistries)");
        }

        var baseUrl = Options.RegistryMirrors.TryGetValue(registry, out var mirror)
            ? new Uri(mirror.TrimEnd('/') + "/")
            : new Uri($"{(IsLocal(registry) ? "http" : "https")}://{registry}/");
        string? token = null;
        using var manifestResponse = await GetAsync(new Uri(baseUrl, $"v2/{reference.Repository}/manifests/{reference.Tag}"), ManifestTypes, reference, () => token, t => token = t, cancellationToken);
        var manifest = await ReadBoundedAsync(manifestResponse, 1024 * 1024, reference, cancellationToken);
        string digest;
        try
        {
            using var document = JsonDocument.Parse(manifest);
            var layer = document.RootElement.GetProperty("layers").EnumerateArray()
                .FirstOrDefault(l => l.GetProperty("mediaType").GetString() is "application/vnd.devcontainers.layer.v1+tar");
            digest = layer.ValueKind == JsonValueKind.Object
                ? layer.GetProperty("digest").GetString()!
                : throw Failure(reference, "its manifest has no layer of type application/vnd.devcontainers.layer.v1+tar: it is not a dev container feature");
        }
        catch (Exception e) when (e is JsonException or KeyNotFoundException or InvalidOperationException)
        {
            throw Failure(reference, $"its manifest is not an OCI image manifest ({e.Message})");
        }

        if (!DigestPattern().IsMatch(digest))
        {
            throw Failure(reference, $"its layer digest '{digest}' is not a sha256 digest");
        }

        using var blob = await GetAsync(new Uri(baseUrl, $"v2/{reference.Repository}/blobs/{digest}"), "*/*", reference, () => token, t => token = t, cancellationToken);
        var bytes = await ReadBoundedAsync(blob, Options.MaxFeatureBytes, reference, cancellationToken);
        var actual = "sha256:" + Convert.ToHexStringLower(SHA256.HashData(bytes));
        if (actual != digest)
        {
            throw Failure(reference, $"its layer's content is {actual}, not the {digest} its manifest names");
        }

        await ExtractAsync(bytes, into, reference, cancellationToken);
        LogFetched(reference.Written, digest);
        return digest;
    }

    private async Task<string> FetchTarballAsync(FeatureReference reference, string into, CancellationToken cancellationToken)
    {
        var url = reference.Url!;
        var host = url.IsDefaultPort ? url.Host : $"{url.Host}:{url.Port}";
        if (!Options.IsAllowed(host))
        {
            throw Failure(reference, $"the host {host} is not among those this platform fetches features from (DevContainers:AllowedRegistries)");
        }

        if (url.Scheme != Uri.UriSchemeHttps && !IsLocal(host))
        {
            throw Failure(reference, "a feature tarball is fetched over https only");
        }

        using var response = await GetAsync(url, "*/*", reference, () => null, _ => { }, cancellationToken);
        var bytes = await ReadBoundedAsync(response, Options.MaxFeatureBytes, reference, cancellationToken);
        await ExtractAsync(bytes, into, reference, cancellationToken);
        return "sha256:" + Convert.ToHexStringLower(SHA256.HashData(bytes));
    }

    private static string CopyLocal(FeatureReference reference, string configFolder, string into)
    {
        var source = Path.GetFullPath(Path.Combine(configFolder, reference.Path!));
        var root = Path.GetFullPath(configFolder).TrimEnd(Path.DirectorySeparatorChar) + Path.DirectorySeparatorChar;
        if (!source.StartsWith(root, StringComparison.Ordinal) || !Directory.Exists(source))
        {
            throw Failure(reference, $"there is no folder {reference.Path} beside devcontainer.json");
        }

        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        Copy(new DirectoryInfo(source), into, string.Empty, hash);
        return "sha256:" + Convert.ToHexStringLower(hash.GetHashAndReset());
    }

    /// <summary>Regular files and folders, never through a link (the checkout is untrusted), hashed by path and content.</summary>
    private static void Copy(DirectoryInfo from, string to, string relative, IncrementalHash hash)
    {
        Directory.CreateDirectory(to);
        foreach (var entry in from.EnumerateFileSystemInfos().OrderBy(e => e.Name, StringComparer.Ordinal))
        {
            if (entry.LinkTarget is not null)
            {
                continue;
            }

            var path = relative + "/" + entry.Name;
            hash.AppendData(System.Text.Encoding.UTF8.GetBytes(path + "\0"));
            if (entry is DirectoryInfo folder)
            {
                Copy(folder, Path.Combine(to, folder.Name), path, hash);
            }
            else if (entry is FileInfo file)
            {
                var bytes = File.ReadAllBytes(file.FullName);
                hash.AppendData(bytes);
                File.WriteAllBytes(Path.Combine(to, file.Name), bytes);
            }
        }
    }

    /// <summary>A GET that answers a registry's bearer challenge once (anonymous pull) and follows redirects over https.</summary>
    private async Task<HttpResponseMessage> GetAsync(
        Uri url, string accept, FeatureReference reference, Func<string?> token, Action<string> setToken, CancellationToken cancellationToken)
    {
        for (var hop = 0; hop < 6; hop++)
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, url);
            request.Headers.Accept.ParseAdd(accept);
            request.Headers.UserAgent.ParseAdd("clouddevenv/1");
            if (token() is { } bearer && hop == 0)
            {
                request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", bearer);
            }

            var response = await Http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken);
            if (response.StatusCode == HttpStatusCode.Unauthorized && token() is null && response.Headers.WwwAuthenticate.FirstOrDefault(h => h.Scheme == "Bearer") is { Parameter: { } challenge })
            {
                response.Dispose();
                setToken(await AnonymousTokenAsync(challenge, reference, cancellationToken));
                hop--;
                continue;
            }

            if ((int)response.StatusCode is >= 300 and < 400 && response.Headers.Location is { } location)
            {
                var next = new Uri(url, location);
                response.Dispose();
                if (next.Scheme != Uri.UriSchemeHttps && !(next.Scheme == url.Scheme && next.Authority == url.Authority))
                {
                    throw Failure(reference, $"the registry redirected to {next.GetLeftPart(UriPartial.Authority)}, which is not https");
                }

                url = next;
                continue;
            }

            if (!response.IsSuccessStatusCode)
            {
                var body = await response.Content.ReadAsStringAsync(cancellationToken);
                response.Dispose();
                throw Failure(reference, $"{url.GetLeftPart(UriPartial.Authority)} answered {(int)response.StatusCode} {response.ReasonPhrase}{(body.Length > 0 ? ": " + body[..Math.Min(body.Length, 300)].Trim() : string.Empty)}");
            }

            return response;
        }

        throw Failure(reference, "too many redirects");
    }

    /// <summary>The registry's token service (the challenge's realm), asked for an anonymous pull token.</summary>
    private async Task<string> AnonymousTokenAsync(string challenge, FeatureReference reference, CancellationToken cancellationToken)
    {
        var parts = ChallengePart().Matches(challenge).ToDictionary(m => m.Groups["key"].Value, m => m.Groups["value"].Value, StringComparer.OrdinalIgnoreCase);
        if (!parts.TryGetValue("realm", out var realm) || !Uri.TryCreate(realm, UriKind.Absolute, out var realmUrl) || realmUrl.Scheme != Uri.UriSchemeHttps && !IsLocal(realmUrl.Authority))
        {
            throw Failure(reference, "the registry asks for a token from a service that is not an https URL");
        }

        var query = string.Join('&', new[] { "service", "scope" }.Where(parts.ContainsKey).Select(k => $"{k}={Uri.EscapeDataString(parts[k])}"));
        using var response = await Http.GetAsync(new UriBuilder(realmUrl) { Query = query }.Uri, cancellationToken);
        if (!response.IsSuccessStatusCode)
        {
            throw Failure(reference, $"the registry's token service answered {(int)response.StatusCode} {response.ReasonPhrase}");
        }

        using var document = JsonDocument.Parse(await ReadBoundedAsync(response, 64 * 1024, reference, cancellationToken));
        return (document.RootElement.TryGetProperty("token", out var t) ? t.GetString() : document.RootElement.TryGetProperty("access_token", out var a) ? a.GetString() : null)
            ?? throw Failure(reference, "the registry's token service gave no token");
    }

    private static async Task<byte[]> ReadBoundedAsync(HttpResponseMessage response, long limit, FeatureReference reference, CancellationToken cancellationToken)
    {
        if (response.Content.Headers.ContentLength > limit)
        {
            throw Failure(reference, $"it is larger than {limit} bytes (DevContainers:MaxFeatureBytes)");
        }

        await using var stream = await response.Content.ReadAsStreamAsync(cancellationToken);
        using var buffer = new MemoryStream();
        var chunk = new byte[81920];
        int read;
        while ((read = await stream.ReadAsync(chunk, cancellationToken)) > 0)
        {
            if (buffer.Length + read > limit)
            {
                throw Failure(reference, $"it is larger than {limit} bytes (DevContainers:MaxFeatureBytes)");
            }

            buffer.Write(chunk, 0, read);
        }

        return buffer.ToArray();
    }

    /// <summary>A tar or a gzipped tar, unpacked with the checkout's rules (regular files and folders only, bounded).</summary>
    private async Task ExtractAsync(byte[] archive, string into, FeatureReference reference, CancellationToken cancellationToken)
    {
        Stream content = new MemoryStream(archive);
        if (archive.Length > 2 && archive[0] == 0x1f && archive[1] == 0x8b)
        {
            content = new System.IO.Compression.GZipStream(content, System.IO.Compression.CompressionMode.Decompress);
        }

        await using (content)
        {
            try
            {
                await CheckoutArchive.ExtractAsync(content, into, Options.MaxFeatureBytes * 4, cancellationToken);
            }
            catch (Exception e) when (e is InvalidDataException or FormatException or EndOfStreamException)
            {
                throw Failure(reference, $"its archive cannot be read ({e.Message})");
            }
        }

        if (!File.Exists(Path.Combine(into, "devcontainer-feature.json")) || !File.Exists(Path.Combine(into, "install.sh")))
        {
            throw Failure(reference, "its archive holds no devcontainer-feature.json and install.sh");
        }
    }

    private static bool IsLocal(string authority) =>
        authority.StartsWith("localhost", StringComparison.OrdinalIgnoreCase) || authority.StartsWith("127.", StringComparison.Ordinal);

    private static WorkspaceFailure Failure(FeatureReference reference, string why) =>
        new($"The feature {reference.Written} cannot be fetched: {why}.", keepInstanceRunning: false);

    [GeneratedRegex("^sha256:[a-f0-9]{64}$", RegexOptions.CultureInvariant)]
    private static partial Regex DigestPattern();

    [GeneratedRegex("(?<key>[A-Za-z]+)=\"(?<value>[^\"]*)\"", RegexOptions.CultureInvariant)]
    private static partial Regex ChallengePart();

    [LoggerMessage(Level = LogLevel.Information, Message = "Fetched the feature {Feature} ({Digest})")]
    private partial void LogFetched(string feature, string digest);
}
