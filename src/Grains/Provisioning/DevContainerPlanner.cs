using CloudDevEnv.DevContainers;

namespace CloudDevEnv.Grains.Provisioning;

/// <summary>Turns a resolved devcontainer.json into the <see cref="WorkspacePlan"/> the later steps follow.</summary>
internal static class DevContainerPlanner
{
    private static readonly LifecycleHook[] InContainerHooks =
        [LifecycleHook.OnCreateCommand, LifecycleHook.UpdateContentCommand, LifecycleHook.PostCreateCommand, LifecycleHook.PostStartCommand];

    /// <param name="imageUser">The user the image is known to want when devcontainer.json names none, or null for the
    /// container's own user.</param>
    public static WorkspacePlan Plan(DevContainerConfig config, string? imageUser)
    {
        // The spec: remoteUser defaults to containerUser, which defaults to the image's user.
        var remoteUser = config.RemoteUser ?? config.ContainerUser ?? config.RunOptions.User ?? imageUser;
        var containerEnv = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var (name, value) in config.RunOptions.Environment.Concat(config.ContainerEnv))
        {
            containerEnv[name] = value;
        }

        // A null remoteEnv value unsets the variable for tools; an exec cannot unset, so it is left out.
        var remoteEnv = config.RemoteEnv
            .Where(kv => kv.Value is not null)
            .ToDictionary(kv => kv.Key, kv => kv.Value!, StringComparer.Ordinal);

        var hooks = InContainerHooks
            .Select(config.GetLifecycleCommand)
            .OfType<LifecycleCommand>()
            .Select(command => new PlannedHook
            {
                Hook = HookName(command.Hook),
                Parallel = command.Form == LifecycleCommandForm.Parallel,
                FirstStartOnly = command.Hook != LifecycleHook.PostStartCommand,
                Steps = [.. command.Steps.Select(step => new PlannedStep { Name = step.Name, Argv = [.. step.Argv] })],
            })
            .ToList();

        return new WorkspacePlan
        {
            ConfigPath = config.Location.RelativePath,
            ContainerEnv = containerEnv,
            RemoteEnv = remoteEnv,
            ContainerUser = config.ContainerUser ?? config.RunOptions.User,
            RemoteUser = remoteUser,
            WorkspaceFolder = config.WorkspaceFolder,
            Hooks = hooks,
            ForwardPorts = [.. config.ForwardPorts.Where(p => p.Host is null).Select(p => p.Port).Distinct()],
        };
    }

    private static string HookName(LifecycleHook hook)
    {
        var name = hook.ToString();
        return char.ToLowerInvariant(name[0]) + name[1..];
    }
}
