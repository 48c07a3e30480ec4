using System.Security.Cryptography;
using System.Text;

namespace CloudDevEnv.Contracts.Identity;

/// <summary>API tokens look like <c>cde_&lt;id&gt;_&lt;secret&gt;</c>: a fixed-length id to find the token by, then the
/// secret, of which only the SHA-256 is ever stored. The prefix lets secret scanners recognise a leaked token.</summary>
public static class ApiTokenFormat
{
    public const string Prefix = "cde_";
    public const int IdLength = 16;

    private const string IdAlphabet = "abcdefghijklmnopqrstuvwxyz0123456789";
    private const int SecretBytes = 32;

    // base64url of 32 bytes, unpadded.
    private const int SecretLength = 43;

    public static string NewId() => RandomNumberGenerator.GetString(IdAlphabet, IdLength);

    public static string NewSecret() => System.Buffers.Text.Base64Url.EncodeToString(RandomNumberGenerator.GetBytes(SecretBytes));

    public static string Format(string id, string secret) => $"{Prefix}{id}_{secret}";

    /// <summary>Splits a token into id and secret; false for anything not shaped like one of ours.</summary>
    public static bool TryParse(string? token, out string id, out string secret)
    {
        id = secret = string.Empty;
        if (token is null || token.Length != Prefix.Length + IdLength + 1 + SecretLength
            || !token.StartsWith(Prefix, StringComparison.Ordinal) || token[Prefix.Length + IdLength] != '_')
        {
            return false;
        }

        var idPart = token.AsSpan(Prefix.Length, IdLength);
        var secretPart = token.AsSpan(Prefix.Length + IdLength + 1);
        if (!IsId(idPart) || secretPart.ContainsAnyExcept(Base64UrlCharacters))
        {
            return false;
        }

        id = idPart.ToString();
        secret = secretPart.ToString();
        return true;
    }

    public static bool IsId(ReadOnlySpan<char> id) => id.Length == IdLength && !id.ContainsAnyExcept(IdCharacters);

    /// <summary>What is stored of a secret: its SHA-256.</summary>
    public static byte[] Hash(string secret) => SHA256.HashData(Encoding.UTF8.GetBytes(secret));

    private static readonly System.Buffers.SearchValues<char> IdCharacters = System.Buffers.SearchValues.Create(IdAlphabet);

    private static readonly System.Buffers.SearchValues<char> Base64UrlCharacters =
        System.Buffers.SearchValues.Create("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_");
}
