using System.Text.Json.Serialization;

namespace CloudDevEnv.LocalStorage;

/// <summary>The content of <c>reminders.json</c>.</summary>
internal sealed class ReminderTableDocument
{
    public const int CurrentFormat = 1;

    public int Format { get; set; } = CurrentFormat;

    public List<ReminderRow> Reminders { get; set; } = [];
}

/// <summary>One reminder. The grain id is kept in its string form, which <see cref="GrainId.Parse(string)"/> reads back.</summary>
internal sealed class ReminderRow
{
    public required string GrainId { get; set; }

    public required string Name { get; set; }

    public required DateTime StartAt { get; set; }

    public required TimeSpan Period { get; set; }

    public required string ETag { get; set; }
}

[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase, WriteIndented = true)]
[JsonSerializable(typeof(ReminderTableDocument))]
internal sealed partial class ReminderTableJsonContext : JsonSerializerContext;
