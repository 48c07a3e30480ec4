using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Runtime.CompilerServices;
using System.Text.Json;

namespace CloudDevEnv.Cli;

/// <summary>The REST API as cde calls it: a bearer token, JSON in and out, and a refusal turned into one line from the
/// problem's <c>detail</c> with the exit status its kind calls for.</summary>
public sealed class ApiClient(HttpClient http)
{
    public Uri BaseAddress => http.BaseAddress!;

    public static ApiClient Create(CliSettings settings, HttpMessageHandler? handler = null)
    {
        if (string.IsNullOrEmpty(settings.Url) || string.IsNullOrEmpty(settings.Token))
        {
            throw new CliException(ExitCodes.Auth, "Not logged in: run `cde login --url <api> --token <token>`, or set CDE_URL and CDE_TOKEN.");
        }

        if (!Uri.TryCreate(settings.Url, UriKind.Absolute, out var url) || url.Scheme is not ("http" or "https"))
        {
            throw new CliException(ExitCodes.Usage, $"'{settings.Url}' is not an http(s) URL of the API.");
        }

        var client = new HttpClient(handler ?? new HttpClientHandler { AllowAutoRedirect = false }) { BaseAddress = url, Timeout = Timeout.InfiniteTimeSpan };
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", settings.Token);
        client.DefaultRequestHeaders.UserAgent.Add(new ProductInfoHeaderValue("cde", "0.1.0"));
        client.DefaultRequestHeaders.Add("Api-Version", "2026-12-01");
        return new ApiClient(client);
    }

    public Task<JsonElement> GetAsync(string path, CancellationToken cancellationToken) => SendAsync(HttpMethod.Get, path, null, null, cancellationToken);

    public async Task<JsonElement> SendAsync(HttpMethod method, string path, object? body, IReadOnlyDictionary<string, string>? headers, CancellationToken cancellationToken)
    {
        using var response = await RawAsync(method, path, body, headers, cancellationToken);
        var text = await response.Content.ReadAsStringAsync(cancellationToken);
        return text.Length == 0 ? default : JsonDocument.Parse(text).RootElement.Clone();
    }

    /// <summary>Every page of a list, following its <c>Link: rel="next"</c>.</summary>
    public async Task<List<JsonElement>> ListAsync(string path, CancellationToken cancellationToken)
    {
        var all = new List<JsonElement>();
        string? next = path;
        while (next is not null)
        {
            using var response = await RawAsync(HttpMethod.Get, next, null, null, cancellationToken);
            var page = JsonDocument.Parse(await response.Content.ReadAsStringAsync(cancellationToken)).RootElement.Clone();
            all.AddRange(page.EnumerateArray());
            next = response.Headers.TryGetValues("Link", out var links)
                ? links.Select(l => System.Text.RegularExpressions.Regex.Match(l, "<([^>]+)>;\\s*rel=\"next\"")).FirstOrDefault(m => m.Success)?.Groups[1].Value
                : null;
        }

        return all;
    }

    /// <summary>An events stream (Server-Sent Events: a workspace's, a prebuild build's) as (kind, event), until it ends.</summary>
    public async IAsyncEnumerable<(string Kind, JsonElement Event)> EventsAsync(string path, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, path);
        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("text/event-stream"));
        using var response = await SendOrThrowAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken);
        using var reader = new StreamReader(await response.Content.ReadAsStreamAsync(cancellationToken));
        string kind = "message";
        var data = new List<string>();
        while (await reader.ReadLineAsync(cancellationToken) is { } line)
        {
            if (line.Length == 0)
            {
                if (data.Count > 0)
                {
                    yield return (kind, JsonDocument.Parse(string.Join('\n', data)).RootElement.Clone());
                }

                kind = "message";
                data.Clear();
            }
            else if (line.StartsWith("event:", StringComparison.Ordinal))
            {
                kind = line[6..].Trim();
            }
            else if (line.StartsWith("data:", StringComparison.Ordinal))
            {
                data.Add(line[5..].TrimStart());
            }
        }
    }

    private async Task<HttpResponseMessage> RawAsync(HttpMethod method, string path, object? body, IReadOnlyDictionary<string, string>? headers, CancellationToken cancellationToken)
    {
        var request = new HttpRequestMessage(method, path);
        if (body is not null)
        {
            request.Content = JsonContent.Create(body, options: CliJson.Options);
        }

        foreach (var (name, value) in headers ?? new Dictionary<string, string>())
        {
            request.Headers.TryAddWithoutValidation(name, value);
        }

        return await SendOrThrowAsync(request, HttpCompletionOption.ResponseContentRead, cancellationToken);
    }

    private async Task<HttpResponseMessage> SendOrThrowAsync(HttpRequestMessage request, HttpCompletionOption completion, CancellationToken cancellationToken)
    {
        HttpResponseMessage response;
        try
        {
            response = await http.SendAsync(request, completion, cancellationToken);
        }
        catch (HttpRequestException e)
        {
            throw new CliException(ExitCodes.Failure, $"Cannot reach the API at {http.BaseAddress}: {e.Message}");
        }

        if (response.IsSuccessStatusCode)
        {
            return response;
        }

        using (response)
        {
            var text = await response.Content.ReadAsStringAsync(cancellationToken);
            string? detail = null;
            try
            {
                var problem = JsonDocument.Parse(text).RootElement;
                detail = problem.TryGetProperty("detail", out var d) ? d.GetString() : problem.TryGetProperty("title", out var t) ? t.GetString() : null;
            }
            catch (JsonException)
            {
            }

            var code = response.StatusCode switch
            {
                HttpStatusCode.Unauthorized => ExitCodes.Auth,
                HttpStatusCode.NotFound => ExitCodes.NotFound,
                _ => ExitCodes.Failure,
            };
            var message = detail ?? $"The API answered {(int)response.StatusCode} {response.ReasonPhrase}.";
            if (response.StatusCode == HttpStatusCode.Unauthorized)
            {
                message += " Log in again: `cde login --url <api> --token <token>`.";
            }

            throw new CliException(code, message);
        }
    }
}
