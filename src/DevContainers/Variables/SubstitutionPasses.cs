using CloudDevEnv.DevContainers.Jsonc;

namespace CloudDevEnv.DevContainers.Variables;

/// <summary>The three passes the reference CLI makes, in its order: local variables when the file is
/// read, <c>${devcontainerId}</c> before the container is created, <c>${containerEnv:...}</c> once the
/// container runs. Output of one pass is input to the next, as in the CLI.</summary>
internal static class SubstitutionPasses
{
    public static JsoncNode Local(JsoncNode node, IReadOnlyDictionary<string, string> environment,
        string localWorkspaceFolder, string? containerWorkspaceFolder) =>
        VariableSubstitution.Substitute(node, (name, arguments, match) => name switch
        {
            "env" or "localEnv" => VariableSubstitution.LookupEnvironment(environment, arguments, match),
            "localWorkspaceFolder" => localWorkspaceFolder,
            "localWorkspaceFolderBasename" => VariableSubstitution.PosixBasename(localWorkspaceFolder),
            "containerWorkspaceFolder" => containerWorkspaceFolder ?? match,
            "containerWorkspaceFolderBasename" => containerWorkspaceFolder is null
                ? match
                : VariableSubstitution.PosixBasename(containerWorkspaceFolder),
            _ => match,
        });

    public static JsoncNode DevContainerId(JsoncNode node, string devContainerId) =>
        VariableSubstitution.Substitute(node, (name, _, match) => name == "devcontainerId" ? devContainerId : match);

    public static JsoncNode ContainerEnvironment(JsoncNode node, IReadOnlyDictionary<string, string> containerEnvironment) =>
        VariableSubstitution.Substitute(node, (name, arguments, match) => name == "containerEnv"
            ? VariableSubstitution.LookupEnvironment(containerEnvironment, arguments, match)
            : match);
}
