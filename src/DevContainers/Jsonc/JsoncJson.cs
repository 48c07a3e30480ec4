using System.Text.Encodings.Web;
using System.Text.Json;

namespace CloudDevEnv.DevContainers.Jsonc;

/// <summary>Turns parsed JSONC into System.Text.Json values for the parts of a configuration that are
/// kept but not modelled (features, customizations, unknown properties).</summary>
internal static class JsoncJson
{
    private static readonly JsonWriterOptions WriterOptions = new()
    {
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
        SkipValidation = false,
    };

    public static JsonElement ToElement(JsoncNode node)
    {
        using var buffer = new MemoryStream();
        using (var writer = new Utf8JsonWriter(buffer, WriterOptions))
        {
            Write(writer, node);
        }
        using var document = JsonDocument.Parse(buffer.ToArray());
        return document.RootElement.Clone();
    }

    private static void Write(Utf8JsonWriter writer, JsoncNode node)
    {
        switch (node)
        {
            case JsoncObject obj:
                writer.WriteStartObject();
                foreach (var property in obj.Properties)
                {
                    writer.WritePropertyName(property.Name);
                    Write(writer, property.Value);
                }
                writer.WriteEndObject();
                break;
            case JsoncArray array:
                writer.WriteStartArray();
                foreach (var item in array.Items)
                {
                    Write(writer, item);
                }
                writer.WriteEndArray();
                break;
            case JsoncString s:
                writer.WriteStringValue(s.Value);
                break;
            case JsoncNumber n:
                // Verbatim: the parser already checked the JSON number grammar.
                writer.WriteRawValue(n.Text, skipInputValidation: true);
                break;
            case JsoncBoolean b:
                writer.WriteBooleanValue(b.Value);
                break;
            case JsoncNull:
                writer.WriteNullValue();
                break;
            default:
                throw new InvalidOperationException($"Unknown node {node.GetType().Name}.");
        }
    }
}
