namespace CloudDevEnv.DevContainers.Compose;

/// <summary>A compose file that cannot be used: not YAML, a value of the wrong shape, a variable that must be set, a
/// setting refused by a strict policy. The message names the file (relative to the repository) and reads like
/// docker compose's own: <c>.devcontainer/docker-compose.yml: services.db.image must be a string</c>.</summary>
public sealed class ComposeFileException(string file, string reason) : Exception($"{file}: {reason}")
{
    public string File { get; } = file;

    public string Reason { get; } = reason;
}
