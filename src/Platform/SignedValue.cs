using System.Buffers.Text;
using System.Security.Cryptography;
using System.Text;

namespace CloudDevEnv.Platform;

/// <summary><c>base64url(payload).base64url(HMAC-SHA256(key, payload))</c>: tamper-evident, not secret.
/// The payload starts with a purpose tag, so that a token is never taken for a cookie or the reverse. Every process that
/// signs or verifies one value (API and proxy processes) holds the same key.</summary>
public sealed class SignedValue(byte[] key)
{
    public string Sign(string payload)
    {
        var bytes = Encoding.UTF8.GetBytes(payload);
        var mac = HMACSHA256.HashData(key, bytes);
        return Base64Url.EncodeToString(bytes) + "." + Base64Url.EncodeToString(mac);
    }

    /// <summary>The payload, or null when the value is malformed or its signature does not match.</summary>
    public string? Verify(string? value)
    {
        if (string.IsNullOrEmpty(value) || value.Length > 2048)
        {
            return null;
        }

        var dot = value.IndexOf('.');
        if (dot <= 0 || dot == value.Length - 1)
        {
            return null;
        }

        byte[] payload;
        byte[] mac;
        try
        {
            payload = Base64Url.DecodeFromChars(value.AsSpan(0, dot));
            mac = Base64Url.DecodeFromChars(value.AsSpan(dot + 1));
        }
        catch (FormatException)
        {
            return null;
        }

        var expected = HMACSHA256.HashData(key, payload);
        return CryptographicOperations.FixedTimeEquals(expected, mac) ? Encoding.UTF8.GetString(payload) : null;
    }
}
