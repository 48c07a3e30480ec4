namespace CloudDevEnv.DevContainers.Compose;

/// <summary>The Docker Compose properties of devcontainer.json: <c>dockerComposeFile</c>, <c>service</c>,
/// <c>runServices</c>, <c>shutdownAction</c>.</summary>
/// <param name="Files">The compose files, full paths inside the repository, in order (later ones override earlier ones).</param>
/// <param name="Service">The service the workspace is (the IDE, the clone, the hooks).</param>
/// <param name="RunServices">The services to start; null starts all of them.</param>
/// <param name="ShutdownAction"><c>stopCompose</c> (the default) or <c>none</c>.</param>
public sealed record DevContainerCompose(IReadOnlyList<string> Files, string Service, IReadOnlyList<string>? RunServices, string ShutdownAction);
