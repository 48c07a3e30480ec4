using System.Security.Cryptography;
using Microsoft.Extensions.Options;

namespace CloudDevEnv.Proxy.Access;

/// <summary>The HMAC key for tokens and cookies: from <c>Proxy:SigningKey</c>, or kept in <c>Proxy:SigningKeyFile</c>
/// (created with a random key when missing, readable by the owner only).</summary>
internal sealed class SigningKey
{
    public SigningKey(IOptions<WorkspaceProxyOptions> options)
    {
        var o = options.Value;
        Bytes = !string.IsNullOrWhiteSpace(o.SigningKey)
            ? Convert.FromBase64String(o.SigningKey.Trim())
            : LoadOrCreate(o.SigningKeyFile ?? throw new InvalidOperationException("Proxy:SigningKeyFile is not set."));
    }

    public byte[] Bytes { get; }

    private static byte[] LoadOrCreate(string path)
    {
        if (File.Exists(path))
        {
            return ReadKey(path);
        }

        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
        var key = RandomNumberGenerator.GetBytes(32);
        var options = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write };
        if (!OperatingSystem.IsWindows())
        {
            options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        }

        try
        {
            using var stream = new FileStream(path, options);
            using var writer = new StreamWriter(stream);
            writer.Write(Convert.ToBase64String(key));
        }
        catch (IOException) when (File.Exists(path))
        {
            // Another process of this host created it first: use theirs, so that both agree.
            return ReadKey(path);
        }

        return key;
    }

    private static byte[] ReadKey(string path)
    {
        var text = File.ReadAllText(path);
        if (!WorkspaceProxyOptionsValidator.TryDecodeKey(text, out var key) || key.Length < WorkspaceProxyOptionsValidator.MinimumKeyBytes)
        {
            throw new InvalidOperationException(
                $"The signing key file {path} must hold base64 of at least {WorkspaceProxyOptionsValidator.MinimumKeyBytes} bytes.");
        }

        return key;
    }
}
