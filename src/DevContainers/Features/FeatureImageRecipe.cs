using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace CloudDevEnv.DevContainers.Features;

/// <summary>One feature ready to install: its files (a folder), its definition and the options devcontainer.json gave it.</summary>
/// <param name="Folder">Where its files are (install.sh, devcontainer-feature.json, the rest).</param>
/// <param name="Digest">A digest of its content (the registry's layer digest, or a hash of the files), for the image's cache key.</param>
public sealed record ResolvedFeature(FeatureReference Reference, FeatureDefinition Definition, JsonElement Options, string Folder, string Digest);

/// <summary>The build that installs features on top of a base image, as the reference CLI does it: the features' files
/// copied to <c>/tmp/dev-container-features</c>, each feature's <c>containerEnv</c> as <c>ENV</c> before its
/// <c>install.sh</c> runs as root with its options and the users (<c>_REMOTE_USER</c>, <c>_CONTAINER_USER</c> and their
/// homes) in its environment, the image's own user restored, and the result recorded in the
/// <c>devcontainer.metadata</c> label (the base's entries, then one a feature).</summary>
public static class FeatureImageRecipe
{
    public const string MetadataLabel = "devcontainer.metadata";

    private const string Root = "/tmp/dev-container-features";

    /// <summary>Scripts and env files for sh: a byte-order mark would be read as part of the first command.</summary>
    private static readonly UTF8Encoding NoBom = new(encoderShouldEmitUTF8Identifier: false);

    /// <summary>Writes the build context into <paramref name="context"/> (which must be empty): the Dockerfile and a folder
    /// a feature.</summary>
    /// <param name="baseImage">What to build FROM.</param>
    /// <param name="imageUser">The base image's own user (its USER), restored at the end; null: root.</param>
    /// <param name="baseMetadata">The base image's <c>devcontainer.metadata</c> label, kept first; null when it has none.</param>
    /// <returns>The Dockerfile's text (its contents are the cache key with the features' digests).</returns>
    public static string Write(string context, string baseImage, string? imageUser, string remoteUser, string containerUser,
        IReadOnlyList<ResolvedFeature> features, string? baseMetadata)
    {
        var featuresFolder = Path.Combine(context, "features");
        Directory.CreateDirectory(featuresFolder);
        File.WriteAllText(Path.Combine(featuresFolder, "cde-users.sh"), UsersScript, NoBom);
        File.WriteAllText(Path.Combine(featuresFolder, "cde-install.sh"), InstallScript, NoBom);

        var dockerfile = new StringBuilder();
        dockerfile.Append("FROM ").AppendLine(baseImage);
        dockerfile.AppendLine("USER root");
        dockerfile.AppendLine($"COPY features/ {Root}/");
        dockerfile.AppendLine($"RUN /bin/sh {Root}/cde-users.sh {Shell(remoteUser)} {Shell(containerUser)}");
        for (var i = 0; i < features.Count; i++)
        {
            var feature = features[i];
            var name = $"{i:D2}_{Safe(feature.Definition.Id)}";
            CopyFolder(feature.Folder, Path.Combine(featuresFolder, name));
            File.WriteAllText(
                Path.Combine(featuresFolder, name, "cde-options.env"),
                string.Concat(feature.Definition.OptionEnvironment(feature.Options).OrderBy(kv => kv.Key, StringComparer.Ordinal)
                    .Select(kv => $"{kv.Key}={Shell(kv.Value)}\n")),
                NoBom);
            foreach (var (variable, value) in feature.Definition.ContainerEnv.OrderBy(kv => kv.Key, StringComparer.Ordinal))
            {
                if (!IsVariableName(variable))
                {
                    throw new InvalidOperationException($"the feature {feature.Reference.Written} sets the variable '{variable}', which is not a variable name");
                }

                // Double quotes keep the value whole; ${PATH}-style references are expanded by the builder, as the CLI lets them.
                dockerfile.AppendLine($"ENV {variable}=\"{value.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("\"", "\\\"", StringComparison.Ordinal).Replace("\n", " ", StringComparison.Ordinal)}\"");
            }

            dockerfile.AppendLine($"RUN /bin/sh {Root}/cde-install.sh {name}");
        }

        dockerfile.Append("USER ").AppendLine(string.IsNullOrWhiteSpace(imageUser) ? "root" : imageUser);
        dockerfile.Append("LABEL ").Append(MetadataLabel).Append('=').AppendLine(Quoted(Metadata(baseMetadata, features)));
        var text = dockerfile.ToString();
        File.WriteAllText(Path.Combine(context, "Dockerfile"), text, NoBom);
        return text;
    }

    /// <summary>The label: the base image's entries (an array or one object), then each feature's id and what it asks of
    /// the container at run time (its containerEnv is in the image already).</summary>
    public static string Metadata(string? baseMetadata, IReadOnlyList<ResolvedFeature> features)
    {
        var entries = new JsonArray();
        if (!string.IsNullOrWhiteSpace(baseMetadata) && JsonNode.Parse(baseMetadata) is { } parsed)
        {
            foreach (var entry in parsed is JsonArray list ? [.. list] : new JsonNode?[] { parsed })
            {
                entries.Add(entry?.DeepClone());
            }
        }

        foreach (var feature in features)
        {
            var entry = new JsonObject { ["id"] = feature.Reference.Written };
            if (JsonNode.Parse(feature.Definition.Json.GetRawText()) is JsonObject definition)
            {
                foreach (var key in MetadataKeys.Where(definition.ContainsKey))
                {
                    entry[key] = definition[key]!.DeepClone();
                }
            }

            entries.Add(entry);
        }

        return entries.ToJsonString(Relaxed);
    }

    /// <summary>The JSON written as it is (no \u escapes, which a Dockerfile's quoting would not give back).</summary>
    private static readonly JsonSerializerOptions Relaxed = new() { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    /// <summary>A Dockerfile double-quoted value that the builder gives back unchanged: backslashes, quotes and dollars
    /// escaped (a lifecycle command's $HOME must not be expanded at build time).</summary>
    private static string Quoted(string value) =>
        "\"" + value.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("\"", "\\\"", StringComparison.Ordinal).Replace("$", "\\$", StringComparison.Ordinal) + "\"";

    private static readonly string[] MetadataKeys =
    [
        "init", "privileged", "capAdd", "securityOpt", "entrypoint", "mounts", "customizations",
        "onCreateCommand", "updateContentCommand", "postCreateCommand", "postStartCommand", "postAttachCommand",
    ];

    /// <summary>Finds the users' homes once (getent, else /etc/passwd), for every feature's install.</summary>
    private const string UsersScript = """
        #!/bin/sh
        set -e
        home_of() {
          entry=$(getent passwd "$1" 2>/dev/null || grep -E "^$1:|^[^:]*:[^:]*:$1:" /etc/passwd || true)
          home=$(printf '%s' "$entry" | head -n 1 | cut -d: -f6)
          [ -n "$home" ] && printf '%s' "$home" || { [ "$1" = root ] || [ "$1" = 0 ] && printf /root || printf '/home/%s' "$1"; }
        }
        {
          printf "_REMOTE_USER='%s'\n" "$1"
          printf "_REMOTE_USER_HOME='%s'\n" "$(home_of "$1")"
          printf "_CONTAINER_USER='%s'\n" "$2"
          printf "_CONTAINER_USER_HOME='%s'\n" "$(home_of "$2")"
        } > /tmp/dev-container-features/cde-builtin.env
        """;

    /// <summary>Runs one feature's install.sh in its folder with the users and its options exported.</summary>
    private const string InstallScript = """
        #!/bin/sh
        set -e
        cd "/tmp/dev-container-features/$1"
        set -a
        . /tmp/dev-container-features/cde-builtin.env
        . ./cde-options.env
        set +a
        chmod +x ./install.sh
        echo "Installing the feature $1"
        ./install.sh
        """;

    private static string Shell(string value) => "'" + value.Replace("'", "'\\''", StringComparison.Ordinal) + "'";

    private static string Safe(string id) => new([.. id.Select(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' ? c : '_')]);

    private static bool IsVariableName(string name) =>
        name.Length is > 0 and <= 128 && (char.IsAsciiLetter(name[0]) || name[0] == '_') && name.All(c => char.IsAsciiLetterOrDigit(c) || c == '_');

    /// <summary>Regular files and folders only: a feature's files are untrusted, and a link in them must not carry a
    /// file of this host into the build context.</summary>
    private static void CopyFolder(string from, string to)
    {
        Directory.CreateDirectory(to);
        foreach (var entry in new DirectoryInfo(from).EnumerateFileSystemInfos())
        {
            if (entry.LinkTarget is not null)
            {
                continue;
            }

            if (entry is DirectoryInfo folder)
            {
                CopyFolder(folder.FullName, Path.Combine(to, folder.Name));
            }
            else if (entry is FileInfo file)
            {
                file.CopyTo(Path.Combine(to, file.Name));
            }
        }
    }
}
