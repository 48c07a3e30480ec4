using System.Net;
using System.Net.Sockets;
using System.Text.Json;
using Docker.DotNet;

namespace CloudDevEnv.Runtime.Docker;

/// <summary>Turns Docker client and engine failures into <see cref="WorkspaceRuntimeException"/>s with a short,
/// human message (the engine's own words, never a stack trace) and the right permanence.</summary>
internal static class DockerErrors
{
    /// <summary>Engine messages of failures that retrying cannot cure.</summary>
    private static readonly string[] PermanentHints =
    [
        "executable file not found", "no such file or directory", "not a directory", "is a directory",
        "invalid reference format", "invalid mount", "invalid volume", "invalid argument", "bind source path does not exist",
        "manifest unknown", "pull access denied", "repository does not exist", "no such image", "unauthorized",
        "unknown instruction", "dockerfile parse error", "failed to parse", "permission denied",
    ];

    /// <summary>The engine's message from an error body such as <c>{"message":"..."}</c>, trimmed and shortened.</summary>
    public static string EngineMessage(DockerApiException e)
    {
        var body = e.ResponseBody?.Trim() ?? "";
        if (body.StartsWith('{'))
        {
            try
            {
                using var json = JsonDocument.Parse(body);
                if (json.RootElement.TryGetProperty("message", out var message) && message.ValueKind == JsonValueKind.String)
                {
                    body = message.GetString() ?? body;
                }
            }
            catch (JsonException)
            {
                // not JSON after all: keep the body
            }
        }

        if (body.Length == 0)
        {
            body = $"HTTP {(int)e.StatusCode} {e.StatusCode}";
        }

        return Shorten(body.Trim());
    }

    public static bool IsPermanentMessage(string message) =>
        PermanentHints.Any(h => message.Contains(h, StringComparison.OrdinalIgnoreCase));

    /// <summary>Maps <paramref name="e"/> raised while doing <paramref name="action"/> against the engine at <paramref name="endpoint"/>.</summary>
    public static WorkspaceRuntimeException Map(Exception e, string action, string endpoint)
    {
        switch (e)
        {
            case WorkspaceRuntimeException w:
                return w;
            case DockerApiException api:
                var message = EngineMessage(api);
                var permanent = api.StatusCode switch
                {
                    HttpStatusCode.BadRequest => true,
                    HttpStatusCode.NotFound => true,
                    HttpStatusCode.Forbidden => true,
                    HttpStatusCode.Conflict => false,
                    HttpStatusCode.InternalServerError => IsPermanentMessage(message),
                    _ => false,
                };
                return new WorkspaceRuntimeException($"{action}: {message}", permanent, e);
            case HttpRequestException or SocketException or IOException:
                return new WorkspaceRuntimeException(
                    $"{action}: the Docker engine at {endpoint} is unreachable ({Shorten(Innermost(e).Message)}).", isPermanent: false, e);
            case DockerConfigurationException or SshDockerEndpointNotSupportedException:
                return new WorkspaceRuntimeException($"{action}: the Docker endpoint {endpoint} is not usable ({Shorten(e.Message)}).", isPermanent: true, e);
            case TimeoutException:
                return new WorkspaceRuntimeException($"{action}: the Docker engine at {endpoint} did not answer in time.", isPermanent: false, e);
            default:
                return new WorkspaceRuntimeException($"{action}: {Shorten(e.Message)}", isPermanent: false, e);
        }
    }

    private static Exception Innermost(Exception e)
    {
        while (e.InnerException is not null)
        {
            e = e.InnerException;
        }

        return e;
    }

    internal static string Shorten(string text, int max = 600) =>
        text.Length <= max ? text : text[..max] + "…";
}
