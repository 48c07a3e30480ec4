using System.Text.Json;

namespace CloudDevEnv.Grains.Provisioning;

/// <summary>The users an image asks for when devcontainer.json names none: from its <c>devcontainer.metadata</c>
/// label (what the reference CLI and prebuilt dev container images record), else its configured <c>USER</c>.</summary>
/// <param name="ContainerUser">The user the container should run as; null keeps the image's.</param>
/// <param name="RemoteUser">The user the clone, the hooks and the IDE run as; null means the container's.</param>
internal sealed record ImageUsers(string? ContainerUser, string? RemoteUser)
{
    public const string MetadataLabel = "devcontainer.metadata";

    public static readonly ImageUsers None = new(null, null);

    /// <summary>The label holds a JSON array of objects (or one object); as in the spec's merge rules the last entry
    /// that sets <c>remoteUser</c> (or <c>containerUser</c>) wins. remoteUser defaults to containerUser, which defaults
    /// to the image's <c>USER</c>.</summary>
    /// <param name="problem">Set when the label is there but unreadable; the label is then ignored.</param>
    public static ImageUsers From(ImageInfo image, out string? problem)
    {
        ArgumentNullException.ThrowIfNull(image);
        problem = null;
        string? containerUser = null;
        string? remoteUser = null;
        if (image.Labels.TryGetValue(MetadataLabel, out var metadata) && !string.IsNullOrWhiteSpace(metadata))
        {
            try
            {
                using var document = JsonDocument.Parse(metadata);
                var entries = document.RootElement.ValueKind == JsonValueKind.Array
                    ? document.RootElement.EnumerateArray().ToList()
                    : [document.RootElement];
                foreach (var entry in entries.Where(e => e.ValueKind == JsonValueKind.Object))
                {
                    containerUser = Text(entry, "containerUser") ?? containerUser;
                    remoteUser = Text(entry, "remoteUser") ?? remoteUser;
                }
            }
            catch (JsonException e)
            {
                problem = $"the {MetadataLabel} label of {image.Image} is not valid JSON ({e.Message}); it is ignored";
            }
        }

        return new ImageUsers(containerUser, remoteUser ?? containerUser ?? image.User);
    }

    private static string? Text(JsonElement entry, string property) =>
        entry.TryGetProperty(property, out var value) && value.ValueKind == JsonValueKind.String && value.GetString() is { Length: > 0 } text
            ? text
            : null;
}
