namespace CloudDevEnv.DevContainers;

/// <summary>What the host side contributes when a configuration is resolved.</summary>
public sealed record LocalContext
{
    private static readonly IReadOnlyDictionary<string, string> NoVariables =
        new Dictionary<string, string>(StringComparer.Ordinal);

    public LocalContext()
    {
    }

    public LocalContext(IReadOnlyDictionary<string, string> environment)
    {
        Environment = environment;
    }

    /// <summary>No variables, the repository folder as the workspace folder, the CLI's id labels.</summary>
    public static LocalContext Empty { get; } = new();

    /// <summary>The variables <c>${localEnv:NAME}</c> and <c>${env:NAME}</c> read (case-sensitive). Empty by
    /// default on purpose: devcontainer.json comes from the repository and is untrusted, so handing it the
    /// server's own environment would let it copy the control plane's secrets into a container. Pass only
    /// what the user may see (e.g. the user's own secrets).</summary>
    public IReadOnlyDictionary<string, string> Environment { get; init; } = NoVariables;

    /// <summary>The host path <c>${localWorkspaceFolder}</c> stands for, and whose last segment names the
    /// default workspace folder (<c>/workspaces/&lt;basename&gt;</c>). Null means the repository folder
    /// given to the loader; set it when the checkout lives in a scratch folder whose name means nothing.</summary>
    public string? LocalWorkspaceFolder { get; init; }

    /// <summary>The labels <c>${devcontainerId}</c> is hashed from. Null means the reference CLI's
    /// defaults (<see cref="DevContainerId.DefaultLabels"/>), which change when the checkout moves; a
    /// service that wants the id stable per workspace passes its own, e.g. the workspace id.</summary>
    public IReadOnlyDictionary<string, string>? IdLabels { get; init; }

    /// <summary>What the platform lets a configuration ask of the container, and whether a setting outside it fails the
    /// configuration or is left out. <see cref="DevContainerPolicy.Strict"/> unless the caller chose.</summary>
    public DevContainerPolicy Policy { get; init; } = DevContainerPolicy.Strict;
}
