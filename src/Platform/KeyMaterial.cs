using System.Security.Cryptography;

namespace CloudDevEnv.Platform;

/// <summary>A symmetric key given as base64 in configuration, or kept in a file that is created with a random key when
/// missing and is readable by its owner only. Every process that must agree on the key (API and proxy processes, the
/// silos) reads the same setting or the same file.</summary>
public static class KeyMaterial
{
    /// <summary>The size of a key made here, and the least any key may have.</summary>
    public const int MinimumBytes = 32;

    /// <summary>The key from <paramref name="base64"/> when it is set, else from (or into) <paramref name="file"/>.</summary>
    /// <param name="setting">The configuration key of <paramref name="base64"/>, for messages.</param>
    /// <exception cref="InvalidOperationException">Neither is set, or the key is malformed or short.</exception>
    public static byte[] Read(string? base64, string? file, string setting)
    {
        if (!string.IsNullOrWhiteSpace(base64))
        {
            return Check(base64, setting);
        }

        return string.IsNullOrWhiteSpace(file)
            ? throw new InvalidOperationException($"Set {setting} (base64 of at least {MinimumBytes} bytes) or {setting}File.")
            : LoadOrCreate(file);
    }

    /// <summary>Why <paramref name="base64"/> cannot be a key, or null when it can.</summary>
    public static string? Problem(string base64, string setting)
    {
        if (!TryDecode(base64, out var key))
        {
            return $"{setting} is not valid base64.";
        }

        return key.Length < MinimumBytes ? $"{setting} must hold at least {MinimumBytes} bytes; it holds {key.Length}." : null;
    }

    private static byte[] Check(string base64, string setting) =>
        Problem(base64, setting) is { } problem ? throw new InvalidOperationException(problem) : Convert.FromBase64String(base64.Trim());

    private static byte[] LoadOrCreate(string path)
    {
        if (File.Exists(path))
        {
            return ReadFile(path);
        }

        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
        var key = RandomNumberGenerator.GetBytes(MinimumBytes);
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
            return ReadFile(path);
        }

        return key;
    }

    private static byte[] ReadFile(string path)
    {
        var text = File.ReadAllText(path);
        if (!TryDecode(text, out var key) || key.Length < MinimumBytes)
        {
            throw new InvalidOperationException($"The key file {path} must hold base64 of at least {MinimumBytes} bytes.");
        }

        return key;
    }

    private static bool TryDecode(string value, out byte[] key)
    {
        try
        {
            key = Convert.FromBase64String(value.Trim());
            return true;
        }
        catch (FormatException)
        {
            key = [];
            return false;
        }
    }
}
