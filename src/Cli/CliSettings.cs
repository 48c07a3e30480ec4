using System.Text.Json;

namespace CloudDevEnv.Cli;

/// <summary>Where cde talks to and with which token: <c>CDE_URL</c> and <c>CDE_TOKEN</c> from the environment win over
/// what <c>cde login</c> stored in <c>$XDG_CONFIG_HOME/cde/config.json</c> (else <c>~/.config/cde/config.json</c>),
/// a file only its owner can read (0600).</summary>
public sealed record CliSettings(string? Url, string? Token)
{
    public static string ConfigPath(Func<string, string?> environment)
    {
        var root = environment("XDG_CONFIG_HOME") is { Length: > 0 } xdg
            ? xdg
            : Path.Combine(environment("HOME") ?? Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".config");
        return Path.Combine(root, "cde", "config.json");
    }

    public static CliSettings Load(Func<string, string?> environment)
    {
        CliSettings stored = new(null, null);
        var path = ConfigPath(environment);
        if (File.Exists(path))
        {
            try
            {
                stored = JsonSerializer.Deserialize<CliSettings>(File.ReadAllText(path), CliJson.Options) ?? stored;
            }
            catch (JsonException)
            {
                throw new CliException(ExitCodes.Failure, $"{path} is not a cde configuration; run `cde login` again.");
            }
        }

        return new CliSettings(
            environment("CDE_URL") is { Length: > 0 } url ? url : stored.Url,
            environment("CDE_TOKEN") is { Length: > 0 } token ? token : stored.Token);
    }

    public void Save(Func<string, string?> environment)
    {
        var path = ConfigPath(environment);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        var temporary = path + ".tmp";
        // Created 0600 before anything is written: the token is never readable by others, not even for a moment.
        var options = new FileStreamOptions { Mode = FileMode.Create, Access = FileAccess.Write };
        if (!OperatingSystem.IsWindows())
        {
            options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        }

        File.Delete(temporary);
        using (var stream = new FileStream(temporary, options))
        {
            JsonSerializer.Serialize(stream, this, CliJson.Options);
        }

        File.Move(temporary, path, overwrite: true);
    }
}
