using System.Text.Json;
using System.Text.Json.Serialization;

namespace CloudDevEnv.DevContainers.Tests.ReferenceCli;

/// <summary>A folder under Conformance/: a small repository, plus an optional <c>.conformance.json</c> with
/// what the test needs to know (it is not copied into the repository the tools read).</summary>
internal sealed record ConformanceCase(string Name, string Folder, ConformanceSettings Settings)
{
    public const string SettingsFile = ".conformance.json";

    public static string CasesFolder => Path.Combine(RepositoryRoot.Path, "tests", "DevContainers.Tests", "Conformance");

    public static IReadOnlyList<string> Names() =>
        Directory.Exists(CasesFolder)
            ? Directory.EnumerateDirectories(CasesFolder).Select(Path.GetFileName).OfType<string>().Order(StringComparer.Ordinal).ToArray()
            : [];

    public static ConformanceCase Load(string name)
    {
        var folder = Path.Combine(CasesFolder, name);
        var settingsPath = Path.Combine(folder, SettingsFile);
        var settings = File.Exists(settingsPath)
            ? JsonSerializer.Deserialize<ConformanceSettings>(File.ReadAllText(settingsPath), JsonOptions)
              ?? throw new InvalidOperationException($"{settingsPath} is empty.")
            : new ConformanceSettings();
        return new ConformanceCase(name, folder, settings);
    }

    /// <summary>Copies the repository to a fresh folder named after the case (so that its basename, which
    /// several variables expose, is stable) outside any Git checkout.</summary>
    public string CopyTo(string parent)
    {
        var target = Path.Combine(parent, Name);
        foreach (var file in Directory.EnumerateFiles(Folder, "*", SearchOption.AllDirectories))
        {
            var relative = Path.GetRelativePath(Folder, file);
            if (relative == SettingsFile)
            {
                continue;
            }
            var destination = Path.Combine(target, relative);
            Directory.CreateDirectory(Path.GetDirectoryName(destination)!);
            File.Copy(file, destination);
        }
        return target;
    }

    private static readonly JsonSerializerOptions JsonOptions = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
        UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow,
        Converters = { new JsonStringEnumConverter() },
    };
}
