using System.Text.Json;

namespace CloudDevEnv.DevContainers.Tests.ReferenceCli;

/// <summary>What <c>devcontainer read-configuration</c> printed: the substituted <c>configuration</c> and
/// the <c>workspace</c> (workspaceFolder, workspaceMount) it derived.</summary>
internal sealed record CliResult(JsonElement Configuration, JsonElement Workspace);
