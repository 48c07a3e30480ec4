using System.Text.Json;
using CloudDevEnv.Api.Problems;

namespace CloudDevEnv.Api.Workspaces;

/// <summary>Reads a small JSON body with the errors a user can act on: too large (413), not JSON or a
/// wrong shape (400 naming the field), rather than the framework's generic binding failure.</summary>
public static class RequestBody
{
    public const int MaxBytes = 64 * 1024;

    public static async Task<(T? Value, IResult? Problem)> ReadAsync<T>(HttpRequest request, JsonSerializerOptions options, CancellationToken cancellationToken)
        where T : class
    {
        var (body, problem) = await ReadBytesAsync(request, MaxBytes, cancellationToken);
        if (problem is not null)
        {
            return (null, problem);
        }

        try
        {
            var value = JsonSerializer.Deserialize<T>(body!, options);
            return value is null
                ? (null, ApiProblems.InvalidField("body", "The request body must be a JSON object."))
                : (value, null);
        }
        catch (JsonException e)
        {
            return (null, ApiProblems.InvalidField(FieldOf(e), Describe(e)));
        }
    }

    /// <summary>The body's bytes, when it is JSON, not empty and at most <paramref name="maxBytes"/>.</summary>
    public static async Task<(byte[]? Body, IResult? Problem)> ReadBytesAsync(HttpRequest request, int maxBytes, CancellationToken cancellationToken)
    {
        if (request.ContentLength > maxBytes)
        {
            return (null, TooLarge(maxBytes));
        }

        if (!request.HasJsonContentType())
        {
            return (null, ApiProblems.Problem(
                StatusCodes.Status415UnsupportedMediaType, "Unsupported media type.", "Send the body as application/json.", "unsupported-media-type"));
        }

        var buffer = new MemoryStream();
        var chunk = new byte[8192];
        int read;
        while ((read = await request.Body.ReadAsync(chunk, cancellationToken)) > 0)
        {
            if (buffer.Length + read > maxBytes)
            {
                return (null, TooLarge(maxBytes));
            }

            buffer.Write(chunk, 0, read);
        }

        return buffer.Length == 0
            ? (null, ApiProblems.InvalidField("body", "The request body is empty; send a JSON object."))
            : (buffer.ToArray(), null);
    }

    private static IResult TooLarge(int maxBytes) => ApiProblems.Problem(
        StatusCodes.Status413PayloadTooLarge, "The request body is too large.", $"The body may be at most {maxBytes / 1024} KiB.", "payload-too-large");

    /// <summary>"$.idleTimeoutMinutes" → "idleTimeoutMinutes"; the root → "body".</summary>
    private static string FieldOf(JsonException e) =>
        e.Path is { Length: > 2 } path && path.StartsWith("$.", StringComparison.Ordinal) ? path[2..] : "body";

    private static string Describe(JsonException e)
    {
        var field = FieldOf(e);
        // The serializer's messages name .NET types; say what the user sent wrong instead.
        if (e.Message.Contains("could not be mapped", StringComparison.Ordinal))
        {
            return $"'{field}' is not a known property.";
        }

        return field == "body"
            ? $"The request body is not valid JSON (line {e.LineNumber + 1}, position {e.BytePositionInLine + 1})."
            : $"'{field}' has the wrong type or is not valid JSON.";
    }
}
