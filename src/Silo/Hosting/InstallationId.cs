using System.Security.Cryptography;

namespace CloudDevEnv.Silo.Hosting;

/// <summary>The identity of one local installation, kept in its data folder: the runtime labels what it creates
/// with it, so that two installations sharing a Docker engine never take each other's containers for orphans.</summary>
public static class InstallationId
{
    public static string ReadOrCreate(string dataDir)
    {
        var path = Path.Combine(dataDir, "installation-id");
        if (File.Exists(path) && File.ReadAllText(path).Trim() is { Length: > 0 } existing)
        {
            return existing;
        }

        var id = "local-" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(8));
        var temp = path + ".tmp";
        File.WriteAllText(temp, id);
        File.Move(temp, path, overwrite: true);
        return id;
    }
}
