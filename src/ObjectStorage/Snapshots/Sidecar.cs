using System.Globalization;

namespace CloudDevEnv.ObjectStorage.Snapshots;

/// <summary>The small object beside each snapshot, <c>&lt;key&gt;.sha256</c>: <c>&lt;lower-case hex SHA-256&gt; &lt;size in bytes&gt;\n</c>.
/// Written once the snapshot's object is complete, so its presence is what makes the snapshot listed.</summary>
internal static class Sidecar
{
    public static string Format(string sha256, long sizeBytes) =>
        string.Create(CultureInfo.InvariantCulture, $"{sha256} {sizeBytes}\n");

    public static bool TryParse(string text, out string sha256, out long sizeBytes)
    {
        sha256 = "";
        sizeBytes = 0;
        var parts = text.Trim().Split(' ');
        if (parts.Length != 2 || parts[0].Length != 64 || !parts[0].All(char.IsAsciiHexDigitLower)
            || !long.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out sizeBytes))
        {
            return false;
        }

        sha256 = parts[0];
        return true;
    }
}
