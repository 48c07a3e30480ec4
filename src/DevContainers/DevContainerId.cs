using System.Globalization;
using System.Security.Cryptography;
using System.Text;

namespace CloudDevEnv.DevContainers;

/// <summary>The value of <c>${devcontainerId}</c>, computed exactly as the reference CLI does
/// (devcontainerIdForLabels in src/spec-common/variableSubstitution.ts): SHA-256 of the id labels
/// serialised by JavaScript's JSON.stringify with sorted keys, written in base 32 (digits 0-9a-v),
/// left-padded with zeros to 52 characters.</summary>
public static class DevContainerId
{
    /// <summary>The label the CLI puts the host workspace folder in.</summary>
    public const string LocalFolderLabel = "devcontainer.local_folder";

    /// <summary>The label the CLI puts the devcontainer.json path in.</summary>
    public const string ConfigFileLabel = "devcontainer.config_file";

    private const string Base32Digits = "0123456789abcdefghijklmnopqrstuv";

    /// <summary>The id for the labels the CLI uses by default: the workspace folder and the config file.</summary>
    public static string ForWorkspace(string localWorkspaceFolder, string configFilePath) =>
        Compute(DefaultLabels(localWorkspaceFolder, configFilePath));

    public static IReadOnlyDictionary<string, string> DefaultLabels(string localWorkspaceFolder, string configFilePath) =>
        new Dictionary<string, string>(StringComparer.Ordinal)
        {
            [LocalFolderLabel] = localWorkspaceFolder,
            [ConfigFileLabel] = configFilePath,
        };

    public static string Compute(IReadOnlyDictionary<string, string> idLabels)
    {
        ArgumentNullException.ThrowIfNull(idLabels);
        // Array.prototype.sort without a comparer orders by UTF-16 code units, as ordinal comparison does.
        var keys = idLabels.Keys.OrderBy(k => k, StringComparer.Ordinal);
        var json = new StringBuilder("{");
        var first = true;
        foreach (var key in keys)
        {
            if (!first)
            {
                json.Append(',');
            }
            first = false;
            AppendJavaScriptJsonString(json, key);
            json.Append(':');
            AppendJavaScriptJsonString(json, idLabels[key]);
        }
        json.Append('}');
        var hash = SHA256.HashData(Encoding.UTF8.GetBytes(json.ToString()));
        return ToBase32(hash);
    }

    // 256 bits read as one big-endian number, 5 bits per digit from the top after 4 leading zero bits:
    // the same digits as BigInt(`0x${hex}`).toString(32).padStart(52, '0').
    private static string ToBase32(byte[] hash)
    {
        var digits = new char[52];
        for (var d = 0; d < 52; d++)
        {
            var bitOffset = d * 5 - 4;
            var value = 0;
            for (var b = 0; b < 5; b++)
            {
                var bit = bitOffset + b;
                value <<= 1;
                if (bit >= 0 && (hash[bit / 8] & (0x80 >> (bit % 8))) != 0)
                {
                    value |= 1;
                }
            }
            digits[d] = Base32Digits[value];
        }
        return new string(digits);
    }

    // JSON.stringify's string escaping (ES2019 well-formed): only '"', '\\', control characters and
    // unpaired surrogates are escaped; everything else is written as is (then encoded as UTF-8).
    private static void AppendJavaScriptJsonString(StringBuilder json, string value)
    {
        json.Append('"');
        for (var i = 0; i < value.Length; i++)
        {
            var c = value[i];
            switch (c)
            {
                case '"': json.Append("\\\""); break;
                case '\\': json.Append("\\\\"); break;
                case '\b': json.Append("\\b"); break;
                case '\f': json.Append("\\f"); break;
                case '\n': json.Append("\\n"); break;
                case '\r': json.Append("\\r"); break;
                case '\t': json.Append("\\t"); break;
                default:
                    if (c < ' ')
                    {
                        json.Append("\\u").Append(((int)c).ToString("x4", CultureInfo.InvariantCulture));
                    }
                    else if (char.IsHighSurrogate(c) && i + 1 < value.Length && char.IsLowSurrogate(value[i + 1]))
                    {
                        json.Append(c).Append(value[i + 1]);
                        i++;
                    }
                    else if (char.IsSurrogate(c))
                    {
                        json.Append("\\u").Append(((int)c).ToString("x4", CultureInfo.InvariantCulture));
                    }
                    else
                    {
                        json.Append(c);
                    }
                    break;
            }
        }
        json.Append('"');
    }
}
