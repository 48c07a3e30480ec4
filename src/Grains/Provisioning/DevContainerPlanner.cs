using System.Text.Json;
using CloudDevEnv.DevContainers;
using CloudDevEnv.DevContainers.Features;

namespace CloudDevEnv.Grains.Provisioning;

/// <summary>Turns a resolved devcontainer.json into the <see cref="WorkspacePlan"/> the later steps follow.</summary>
internal static class DevContainerPlanner
{
    private static readonly LifecycleHook[] InContainerHooks =
        [LifecycleHook.OnCreateCommand, LifecycleHook.UpdateContentCommand, LifecycleHook.PostCreateCommand, LifecycleHook.PostStartCommand];

    /// <param name="image">The users the image asks for (its devcontainer.metadata label, its USER), used when
    /// devcontainer.json names none.</param>
    /// <param name="features">The features installed into the image, in install order: their hooks run before the
    /// configuration's of the same kind, their volumes, capabilities and entrypoints join the configuration's.</param>
    /// <param name="ide">The IDE customizations of the image (its devcontainer.metadata label, which holds those of the
    /// features installed into it); devcontainer.json's own are merged over them.</param>
    public static WorkspacePlan Plan(DevContainerConfig config, ImageUsers image, IReadOnlyList<ResolvedFeature>? features = null, IEnumerable<JsonElement?>? ide = null)
    {
        features ??= [];
        // The spec: remoteUser defaults to containerUser, which defaults to the image's user.
        var remoteUser = config.RemoteUser ?? config.ContainerUser ?? config.RunOptions.User ?? image.RemoteUser;
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
            .SelectMany(hook => features
                .Select(f => (Command: f.Definition.LifecycleCommands.FirstOrDefault(c => c.Hook == hook), Label: $"{HookName(hook)} of the feature {f.Definition.Id}"))
                .Append((Command: config.GetLifecycleCommand(hook), Label: HookName(hook))))
            .Where(h => h.Command is not null)
            .Select(h => new PlannedHook
            {
                Hook = h.Label,
                Parallel = h.Command!.Form == LifecycleCommandForm.Parallel,
                FirstStartOnly = h.Command.Hook != LifecycleHook.PostStartCommand,
                Stage = h.Command.Hook,
                Steps = [.. h.Command.Steps.Select(step => new PlannedStep { Name = step.Name, Argv = [.. step.Argv] })],
            })
            .ToList();
        var runOptions = features.Select(f => f.Definition.RunOptions).Prepend(config.RunOptions).ToList();
        var customizations = VsCodeCustomizations.Merge((ide ?? []).Append(
            config.AdditionalProperties.TryGetValue("customizations", out var own) ? own : null));

        return new WorkspacePlan
        {
            ConfigPath = config.Location.RelativePath,
            ContainerEnv = containerEnv,
            RemoteEnv = remoteEnv,
            ContainerUser = config.ContainerUser ?? config.RunOptions.User ?? image.ContainerUser,
            RemoteUser = remoteUser,
            WorkspaceFolder = config.WorkspaceFolder,
            Hooks = hooks,
            WaitFor = config.WaitFor,
            ForwardPorts = [.. config.ForwardPorts.Where(p => p.Host is null).Select(p => p.Port).Distinct()],
            Volumes = Volumes(config.Mounts.Concat(features.SelectMany(f => f.Definition.Mounts))),
            CapAdd = [.. runOptions.SelectMany(o => o.CapAdd).Distinct()],
            SecurityOptions = [.. runOptions.SelectMany(o => o.SecurityOptions).Where(o => o != "no-new-privileges").Distinct()],
            ShmSizeBytes = config.RunOptions.ShmSizeBytes,
            Entrypoints = [.. features.Select(f => f.Definition.Entrypoint).OfType<string>().Where(e => e.Length > 0)],
            IdeSettings = customizations.Settings,
            IdeExtensions = [.. customizations.Extensions],
        };
    }

    /// <summary>The volume mounts (bind mounts are refused at load; tmpfs ones are not applied, see the resolver's
    /// notes), each under a name the runtime accepts. The names only need to be distinct within the workspace.</summary>
    private static List<PlannedVolume> Volumes(IEnumerable<DevContainerMount> mounts)
    {
        var volumes = new List<PlannedVolume>();
        foreach (var (mount, index) in mounts.Select((m, i) => (m, i)))
        {
            if (mount.Type != DevContainerMountType.Volume || volumes.Any(v => v.Target == mount.Target))
            {
                continue;
            }

            var name = mount.Source is null ? $"anon-{index}" : VolumeName(mount.Source);
            volumes.Add(new PlannedVolume { Name = name, Target = mount.Target, ReadOnly = mount.ReadOnly });
        }

        return volumes;
    }

    private static string VolumeName(string source)
    {
        var cleaned = new string([.. source.Select(c => char.IsAsciiLetterOrDigit(c) || c is '_' or '.' or '-' ? c : '-')]).Trim('-', '.', '_');
        if (cleaned.Length is > 0 and <= 40 && cleaned == source)
        {
            return cleaned;
        }

        // Changed or long (e.g. "${devcontainerId}-cache", 60 characters): keep it readable, keep it distinct.
        var hash = Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(source)))[..8];
        return cleaned.Length == 0 ? hash : $"{cleaned[..Math.Min(cleaned.Length, 31)].TrimEnd('-', '.', '_')}-{hash}";
    }

    private static string HookName(LifecycleHook hook)
    {
        var name = hook.ToString();
        return char.ToLowerInvariant(name[0]) + name[1..];
    }
}
