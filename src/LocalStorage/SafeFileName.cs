using System.Security.Cryptography;
using System.Text;

namespace CloudDevEnv.LocalStorage;

/// <summary>Turns a grain id or state name into a file name that is the same on every file system and
/// never the same for two different inputs. Lower-case letters, digits and '-' stay; every other UTF-8
/// byte becomes '_' and two lower-case hex digits. Upper case is escaped too because macOS and Windows
/// fold case, '.' because Windows drops it at the end of a name, '_' so that decoding is unambiguous.
/// A name too long for a file system (255 bytes) keeps a readable prefix and ends in '~' and the SHA-256 of
/// the whole input; '~' never appears in a short name, so the two forms cannot collide.</summary>
internal static class SafeFileName
{
    /// <summary>Leaves room for a temporary file's prefix and suffix within 255 bytes.</summary>
    internal const int MaxLength = 160;

    private const int HashedPrefixLength = MaxLength - 1 - 64;

    public static string Encode(string value)
    {
        var bytes = Encoding.UTF8.GetBytes(value);
        var builder = new StringBuilder(bytes.Length);
        foreach (var b in bytes)
        {
            if (b is (>= (byte)'a' and <= (byte)'z') or (>= (byte)'0' and <= (byte)'9') or (byte)'-')
            {
                builder.Append((char)b);
            }
            else
            {
                builder.Append('_').Append(HexDigit(b >> 4)).Append(HexDigit(b & 0xF));
            }
        }

        if (builder.Length <= MaxLength)
        {
            return builder.ToString();
        }

        // The prefix is only for people reading the folder; cut it before an escape rather than inside one.
        // '_' only ever starts an escape.
        var cut = HashedPrefixLength;
        if (builder[cut - 1] == '_')
        {
            cut -= 1;
        }
        else if (builder[cut - 2] == '_')
        {
            cut -= 2;
        }

        return string.Concat(builder.ToString(0, cut), "~", Convert.ToHexStringLower(SHA256.HashData(bytes)));
    }

    private static char HexDigit(int value) => (char)(value < 10 ? '0' + value : 'a' + value - 10);
}
