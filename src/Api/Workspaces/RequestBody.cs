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
        if (request.ContentLength > MaxBytes)
        {
            return (null, TooLarge());
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
            if (buffer.Length + read > MaxBytes)
            {
                return (null, TooLarge());
            }

            buffer.Write(chunk, 0, read);
        }

        if (buffer.Length == 0)
        {
            return (null, ApiProblems.InvalidField("body", "The request body is empty; send a JSON object."));
        }

        try
        {
            var value = JsonSerializer.Deserialize<T>(buffer.GetBuffer().AsSpan(0, (int)buffer.Length), options);
            return value is null
                ? (null, ApiProblems.InvalidField("body", "The request body must be a JSON object."))
                : (value, null);
        }
        catch (JsonException e)
        {
            return (null, ApiProblems.InvalidField(FieldOf(e), Describe(e)));
        }
    }

    private static IResult TooLarge() => ApiProblems.Problem(
        StatusCodes.Status413PayloadTooLarge, "The request body is too large.", $"The body may be at most {MaxBytes / 1024} KiB.", "payload-too-large");

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
