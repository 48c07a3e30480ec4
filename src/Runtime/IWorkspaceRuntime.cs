namespace CloudDevEnv.Runtime;

/// <summary>The backing compute of workspaces: a Docker container with named volumes, or a
/// Kubernetes pod with a PVC and a service. Every instance carries the workspace id as a label,
/// so that the grain can find and adopt what exists after a crash.</summary>
/// <remarks>Every method is idempotent: create what exists adopts it, delete what is gone succeeds,
/// so that the grain's reconcile loop may repeat any step. A failure that retrying cannot cure
/// throws <see cref="WorkspaceRuntimeException"/> with <c>IsPermanent</c> set.</remarks>
public interface IWorkspaceRuntime
{
    /// <summary>"docker" or "kubernetes": shown to operators.</summary>
    string Name { get; }

    /// <summary>What <see cref="ListAsync"/> covers: the engine (or cluster and namespace) and the installation whose
    /// labels it lists. Every silo that shares one scope sees the same instances, so one orphan reconciliation per
    /// scope is enough.</summary>
    string Scope { get; }

    /// <summary>True when <see cref="InstanceSpec.Companions"/> are run (Docker); a Docker Compose configuration needs it.</summary>
    bool RunsCompanions { get; }

    /// <summary>Where a workspace's folder volume is mounted inside it, when one instance may mount another's
    /// (<see cref="InstanceMountKind.WorkspaceVolume"/>; Docker); null when it may not (Kubernetes, whose claims bind
    /// to one pod's node), and a checkout is then copied in.</summary>
    string? WorkspaceVolumePath { get; }

    /// <summary>Makes the image available to <see cref="CreateAsync"/>: present locally, pulled, or built.</summary>
    Task<PreparedImage> PrepareImageAsync(ImageRequest request, IProgress<string> log, CancellationToken cancellationToken);

    /// <summary>The image's user and labels, or null when it is not present locally (prepare it first).</summary>
    Task<ImageInfo?> InspectImageAsync(string image, CancellationToken cancellationToken);

    /// <summary>Creates the instance and its volumes without starting it, or returns the one that exists.</summary>
    Task<RuntimeInstance> CreateAsync(InstanceSpec spec, CancellationToken cancellationToken);

    Task StartAsync(string workspaceId, CancellationToken cancellationToken);

    /// <summary>Stops the instance and keeps its volumes; <paramref name="grace"/> before it is killed.</summary>
    Task StopAsync(string workspaceId, TimeSpan grace, CancellationToken cancellationToken);

    /// <summary>Removes the instance and its volumes. Succeeds when nothing is there.</summary>
    Task DeleteAsync(string workspaceId, CancellationToken cancellationToken);

    /// <summary>The instance as it is now, or null when none carries this workspace id.</summary>
    Task<RuntimeInstance?> InspectAsync(string workspaceId, CancellationToken cancellationToken);

    /// <summary>Every instance this platform labelled, claimed by a workspace or not.</summary>
    Task<IReadOnlyList<RuntimeInstance>> ListAsync(CancellationToken cancellationToken);

    /// <summary>Runs a command inside the running instance; its output is sent line by line to <paramref name="output"/>.</summary>
    Task<ExecResult> ExecAsync(string workspaceId, ExecRequest request, IProgress<string> output, CancellationToken cancellationToken);

    /// <summary>True when the IDE answers HTTP through the instance's gateway (and so the gateway answers too).</summary>
    Task<bool> ProbeIdeAsync(string workspaceId, CancellationToken cancellationToken);

    /// <summary>Saves the instance's filesystem as an image (an <see cref="InstanceSpec.Ephemeral"/> one has it all, its
    /// volumes' mount points aside) and pushes it to its registry.</summary>
    /// <returns>The pushed image by digest, <c>repository@sha256:…</c>.</returns>
    Task<string> SaveImageAsync(string workspaceId, ImageSave save, IProgress<string> log, CancellationToken cancellationToken);

    /// <summary>A tar stream of <paramref name="path"/> inside the instance (for snapshots).</summary>
    Task<Stream> ArchiveAsync(string workspaceId, string path, CancellationToken cancellationToken);

    /// <summary>Unpacks a tar stream into <paramref name="path"/> inside the instance.</summary>
    Task RestoreAsync(string workspaceId, string path, Stream tar, CancellationToken cancellationToken);
}
