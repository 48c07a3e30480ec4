using System.Buffers;
using System.Globalization;
using System.Runtime.InteropServices;
using System.Security.Cryptography;
using System.Text.Json;

namespace CloudDevEnv.LocalStorage;

/// <summary>One grain's state as one file: who it belongs to, its version and the serializer's bytes.
/// The payload is embedded as JSON when the serializer wrote JSON (Orleans' default), so the data folder
/// stays readable, and as base64 otherwise.</summary>
/// <param name="Incarnation">Chosen when the file is created. A file deleted on clear and written again
/// gets a new one, so an ETag from before the delete can never match again even though the version
/// restarts.</param>
/// <param name="Cleared">A tombstone left by a clear when files are not deleted: no state, but the version
/// still counts.</param>
internal sealed record GrainStateRecord(
    string StateName, string GrainId, string Incarnation, long Version, bool Cleared, ReadOnlyMemory<byte> Payload)
{
    private const int CurrentFormat = 1;

    public string ETag => string.Create(CultureInfo.InvariantCulture, $"{Incarnation}-{Version}");

    public static string NewIncarnation() => Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(8));

    public byte[] ToUtf8Json()
    {
        var buffer = new ArrayBufferWriter<byte>(256 + Payload.Length);
        using (var writer = new Utf8JsonWriter(buffer, new JsonWriterOptions { Indented = false }))
        {
            writer.WriteStartObject();
            writer.WriteNumber("format", CurrentFormat);
            writer.WriteString("stateName", StateName);
            writer.WriteString("grainId", GrainId);
            writer.WriteString("incarnation", Incarnation);
            writer.WriteNumber("version", Version);
            writer.WriteBoolean("cleared", Cleared);
            if (!Cleared)
            {
                if (IsSingleJsonValue(Payload.Span))
                {
                    writer.WritePropertyName("payload");
                    writer.WriteRawValue(Payload.Span, skipInputValidation: true);
                }
                else
                {
                    writer.WriteBase64String("payloadBase64", Payload.Span);
                }
            }

            writer.WriteEndObject();
        }

        return buffer.WrittenSpan.ToArray();
    }

    /// <summary>Parses a file's content; throws <see cref="InvalidDataException"/> if it is not a record.</summary>
    public static GrainStateRecord Parse(ReadOnlyMemory<byte> utf8Json)
    {
        try
        {
            using var document = JsonDocument.Parse(utf8Json);
            var root = document.RootElement;
            var format = root.GetProperty("format").GetInt32();
            if (format != CurrentFormat)
            {
                throw new InvalidDataException($"Unknown grain state file format {format}.");
            }

            var cleared = root.GetProperty("cleared").GetBoolean();
            ReadOnlyMemory<byte> payload = default;
            if (!cleared)
            {
                payload = root.TryGetProperty("payload", out var json)
                    ? JsonMarshal.GetRawUtf8Value(json).ToArray()
                    : root.GetProperty("payloadBase64").GetBytesFromBase64();
            }

            return new GrainStateRecord(
                root.GetProperty("stateName").GetString() ?? throw new InvalidDataException("stateName is null."),
                root.GetProperty("grainId").GetString() ?? throw new InvalidDataException("grainId is null."),
                root.GetProperty("incarnation").GetString() ?? throw new InvalidDataException("incarnation is null."),
                root.GetProperty("version").GetInt64(),
                cleared,
                payload);
        }
        catch (Exception e) when (e is JsonException or KeyNotFoundException or InvalidOperationException or FormatException)
        {
            throw new InvalidDataException("Not a grain state file: " + e.Message, e);
        }
    }

    private static bool IsSingleJsonValue(ReadOnlySpan<byte> utf8)
    {
        if (utf8.IsEmpty)
        {
            return false;
        }

        var reader = new Utf8JsonReader(utf8, new JsonReaderOptions { CommentHandling = JsonCommentHandling.Disallow });
        try
        {
            while (reader.Read())
            {
            }

            return true;
        }
        catch (JsonException)
        {
            return false;
        }
    }
}
