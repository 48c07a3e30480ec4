using System.Buffers.Text;
using System.Security.Cryptography;
using System.Text;
using CloudDevEnv.Platform;

namespace CloudDevEnv.Grains.Secrets;

/// <summary>Seals a workspace's secrets for grain storage with AES-256-GCM, as Codespaces keeps user secrets encrypted
/// at rest: what is stored is <c>base64url(nonce ‖ tag ‖ ciphertext)</c>, bound to the workspace and the secret's name
/// (the associated data), so that a sealed value copied into another workspace's record, or under another name, does
/// not open.</summary>
public sealed class SecretSealer(IOptions<SecretOptions> options)
{
    private const int NonceBytes = 12;
    private const int TagBytes = 16;

    /// <summary>False when no key is configured: secrets cannot be kept, and a launch with secrets is refused.</summary>
    public bool IsEnabled => options.Value.IsConfigured;

    private readonly Lazy<byte[]> _key = new(() => KeyMaterial.Read(options.Value.Key, options.Value.KeyFile, "Secrets:Key")[..32]);

    public string Seal(string workspaceId, string name, string value)
    {
        var plain = Encoding.UTF8.GetBytes(value);
        var sealedBytes = new byte[NonceBytes + TagBytes + plain.Length];
        var nonce = sealedBytes.AsSpan(0, NonceBytes);
        RandomNumberGenerator.Fill(nonce);
        using var aes = new AesGcm(_key.Value, TagBytes);
        aes.Encrypt(nonce, plain, sealedBytes.AsSpan(NonceBytes + TagBytes), sealedBytes.AsSpan(NonceBytes, TagBytes), Context(workspaceId, name));
        return Base64Url.EncodeToString(sealedBytes);
    }

    /// <exception cref="CryptographicException">The value was sealed with another key, for another workspace or name, or was altered.</exception>
    public string Open(string workspaceId, string name, string sealedValue)
    {
        var bytes = Base64Url.DecodeFromChars(sealedValue);
        if (bytes.Length < NonceBytes + TagBytes)
        {
            throw new CryptographicException("The sealed secret is too short.");
        }

        var plain = new byte[bytes.Length - NonceBytes - TagBytes];
        using var aes = new AesGcm(_key.Value, TagBytes);
        aes.Decrypt(bytes.AsSpan(0, NonceBytes), bytes.AsSpan(NonceBytes + TagBytes), bytes.AsSpan(NonceBytes, TagBytes), plain, Context(workspaceId, name));
        return Encoding.UTF8.GetString(plain);
    }

    private static byte[] Context(string workspaceId, string name) => Encoding.UTF8.GetBytes($"cde-secret\0{workspaceId}\0{name}");
}
