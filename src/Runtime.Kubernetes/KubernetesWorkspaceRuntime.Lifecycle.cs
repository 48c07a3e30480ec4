using System.Globalization;
using System.Text;
using k8s;
using k8s.Models;
using Microsoft.Extensions.Logging;

namespace CloudDevEnv.Runtime.Kubernetes;

// Lifecycle: a workspace's objects made, its pod started and stopped, everything deleted, and its state read.
public sealed partial class KubernetesWorkspaceRuntime
{
    public async Task<RuntimeInstance> CreateAsync(InstanceSpec spec, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(spec);
        ValidateSpec(spec);
        var id = spec.WorkspaceId;
        var name = ObjectName(id);
        var template = PodTemplate(spec);

        if (await ReadSecretAsync(id, cancellationToken) is { } existing)
        {
            if (SecretValue(existing, SecretKey) == (spec.Gateway?.Secret ?? ""))
            {
                LogAdopting(_logger, id, name);
                return await InstanceAsync(id, existing, cancellationToken);
            }

            // Made for another gateway secret (or none): its volumes stay, its pod goes, so that no pod of the workspace
            // ever answers without the lock it has now.
            LogReplacing(_logger, id, name);
            await DeletePodAsync(id, TimeSpan.Zero, cancellationToken);
            await DeleteIfPresentAsync($"Replacing the Secret of workspace {id}",
                token => _client.CoreV1.DeleteNamespacedSecretAsync(name, _options.Namespace, cancellationToken: token), cancellationToken);
        }

        var action = $"Creating the volumes of workspace {id}";
        List<V1PersistentVolumeClaim> claims =
        [
            Claim(ClaimName(id, "workspaces"), id, spec.Owner, _options.WorkspacesStorage, "workspaces"),
            Claim(ClaimName(id, "home"), id, spec.Owner, _options.HomeStorage, "home"),
            Claim(ClaimName(id, "tmp"), id, spec.Owner, _options.TmpStorage, "tmp"),
            .. spec.Mounts.Where(m => m.Kind == InstanceMountKind.Volume).Select(m => Claim(MountClaimName(id, m.Source), id, spec.Owner, _options.HomeStorage, "mount")),
        ];
        foreach (var claim in claims)
        {
            await CreateIfAbsentAsync(action, token => _client.CoreV1.CreateNamespacedPersistentVolumeClaimAsync(claim, _options.Namespace, cancellationToken: token), cancellationToken);
        }

        if (spec.Gateway is { } gateway)
        {
            var service = GatewayService(spec, gateway);
            await CreateIfAbsentAsync($"Creating the Service of workspace {id}",
                token => _client.CoreV1.CreateNamespacedServiceAsync(service, _options.Namespace, cancellationToken: token), cancellationToken);
        }

        // The Secret last: it is what says the workspace exists, so a create cut short is made again whole.
        var secret = WorkspaceSecret(spec, template);
        if (!await CreateIfAbsentAsync($"Creating the Secret of workspace {id}",
                token => _client.CoreV1.CreateNamespacedSecretAsync(secret, _options.Namespace, cancellationToken: token), cancellationToken))
        {
            secret = await ReadSecretAsync(id, cancellationToken) ?? secret;
        }

        LogCreated(_logger, id, name, spec.Image);
        return await InstanceAsync(id, secret, cancellationToken);
    }

    public async Task StartAsync(string workspaceId, CancellationToken cancellationToken)
    {
        ValidateId(workspaceId);
        var secret = await ReadSecretAsync(workspaceId, cancellationToken)
            ?? throw new WorkspaceRuntimeException($"Workspace {workspaceId} has no objects on Kubernetes; create it first.", isPermanent: true);
        var name = ObjectName(workspaceId);
        var pod = await _pods.GetAsync(name, cancellationToken);
        if (pod is not null && (pod.Status?.Phase is "Succeeded" or "Failed" || pod.Metadata.DeletionTimestamp is not null))
        {
            // Ended (evicted, its node lost, its process gone) or on its way out: a new pod on the same volumes.
            LogReplacingEnded(_logger, workspaceId, name, pod.Status?.Reason ?? pod.Status?.Phase ?? "terminating");
            await DeletePodAsync(workspaceId, TimeSpan.Zero, cancellationToken);
            pod = null;
        }

        if (pod is null)
        {
            var template = TemplateOf(secret);
            var created = await ApiAsync($"Creating the pod of workspace {workspaceId}", async token =>
            {
                try
                {
                    return await _client.CoreV1.CreateNamespacedPodAsync(template, _options.Namespace, cancellationToken: token);
                }
                catch (k8s.Autorest.HttpOperationException e) when (e.Response.StatusCode == System.Net.HttpStatusCode.Conflict)
                {
                    return null;
                }
            }, cancellationToken);
            if (created is not null)
            {
                _pods.Observe(created);
            }
        }

        var (running, last) = await _pods.WaitAsync(name, p => p is null || IsRunning(p) || p.Status?.Phase is "Succeeded" or "Failed" || Stuck(p) is not null,
            _options.StartTimeout, cancellationToken);
        if (last is null || !IsRunning(last))
        {
            var why = last is null ? "it was deleted while starting" : Stuck(last) ?? $"it is {last.Status?.Phase ?? "Pending"}{(last.Status?.Message is { } m ? $": {m}" : "")}";
            throw new WorkspaceRuntimeException(
                $"The pod of workspace {workspaceId} did not run within {_options.StartTimeout.TotalSeconds:0}s: {why}.",
                isPermanent: last is not null && Stuck(last) is not null && !running);
        }

        if (!secret.Metadata.Annotations.ContainsKey(StartedAnnotation))
        {
            await HandWorkspacesToUserAsync(workspaceId, SecretValue(secret, UserKey), cancellationToken);
            secret.Metadata.Annotations[StartedAnnotation] = DateTimeOffset.UtcNow.ToString("O", CultureInfo.InvariantCulture);
            await ApiAsync($"Marking workspace {workspaceId} started",
                token => _client.CoreV1.ReplaceNamespacedSecretAsync(secret, name, _options.Namespace, cancellationToken: token), cancellationToken);
        }
    }

    /// <summary>A fresh PVC is owned by root: the first start gives the workspaces folder to the container's user, as
    /// the Docker runtime does before its first start. Best effort.</summary>
    private async Task HandWorkspacesToUserAsync(string workspaceId, string user, CancellationToken ct)
    {
        if (IsRoot(user))
        {
            return;
        }

        var result = await ExecAsync(workspaceId, new ExecRequest(
            ["/bin/sh", "-c", "chown \"$(id -u \"$1\"):$(id -g \"$1\")\" \"$2\"", "cde-handover", user.Split(':')[0], _options.WorkspacesPath], User: "0"),
            Discard, ct);
        if (result.ExitCode != 0)
        {
            LogHandOverFailed(_logger, workspaceId, _options.WorkspacesPath, user, result.OutputTail);
        }
    }

    private static readonly IProgress<string> Discard = new InlineProgress<string>(_ => { });

    private static bool IsRoot(string? user) => string.IsNullOrWhiteSpace(user) || user.Split(':')[0].Trim() is "root" or "0";

    public async Task StopAsync(string workspaceId, TimeSpan grace, CancellationToken cancellationToken)
    {
        ValidateId(workspaceId);
        var effective = grace < TimeSpan.Zero ? _options.DefaultStopGrace : grace;
        if (await DeletePodAsync(workspaceId, effective, cancellationToken))
        {
            LogStopped(_logger, workspaceId, ObjectName(workspaceId));
        }
    }

    /// <summary>Deletes the pod with <paramref name="grace"/> and waits until the watch says it is gone; false when there was none.</summary>
    private async Task<bool> DeletePodAsync(string workspaceId, TimeSpan grace, CancellationToken ct)
    {
        var name = ObjectName(workspaceId);
        if (await _pods.GetAsync(name, ct) is null)
        {
            return false;
        }

        var seconds = (int)Math.Ceiling(grace.TotalSeconds);
        await DeleteIfPresentAsync($"Deleting the pod of workspace {workspaceId}",
            token => _client.CoreV1.DeleteNamespacedPodAsync(name, _options.Namespace, gracePeriodSeconds: seconds, cancellationToken: token), ct);
        var (gone, _) = await _pods.WaitAsync(name, p => p is null, grace + _options.RequestTimeout, ct);
        if (!gone)
        {
            throw new WorkspaceRuntimeException($"The pod of workspace {workspaceId} was still there {(grace + _options.RequestTimeout).TotalSeconds:0}s after it was deleted.", isPermanent: false);
        }

        return true;
    }

    public async Task DeleteAsync(string workspaceId, CancellationToken cancellationToken)
    {
        ValidateId(workspaceId);
        var name = ObjectName(workspaceId);
        var action = $"Deleting workspace {workspaceId}";
        await DeletePodAsync(workspaceId, TimeSpan.Zero, cancellationToken);
        await DeleteIfPresentAsync(action, token => _client.CoreV1.DeleteNamespacedServiceAsync(name, _options.Namespace, cancellationToken: token), cancellationToken);
        var claims = await ApiAsync(action, token => _client.CoreV1.ListNamespacedPersistentVolumeClaimAsync(
            _options.Namespace, labelSelector: WorkspaceSelector(workspaceId), cancellationToken: token), cancellationToken);
        foreach (var claim in claims.Items ?? [])
        {
            await DeleteIfPresentAsync(action, token => _client.CoreV1.DeleteNamespacedPersistentVolumeClaimAsync(
                claim.Metadata.Name, _options.Namespace, cancellationToken: token), cancellationToken);
        }

        // The Secret last, as it was made last: a delete cut short is found and done again.
        await DeleteIfPresentAsync(action, token => _client.CoreV1.DeleteNamespacedSecretAsync(name, _options.Namespace, cancellationToken: token), cancellationToken);
        LogDeleted(_logger, workspaceId, claims.Items?.Count ?? 0);
    }

    public async Task<RuntimeInstance?> InspectAsync(string workspaceId, CancellationToken cancellationToken)
    {
        ValidateId(workspaceId);
        var secret = await ReadSecretAsync(workspaceId, cancellationToken);
        return secret is null ? null : await InstanceAsync(workspaceId, secret, cancellationToken);
    }

    public async Task<IReadOnlyList<RuntimeInstance>> ListAsync(CancellationToken cancellationToken)
    {
        var secrets = await ApiAsync("Listing workspaces", token => _client.CoreV1.ListNamespacedSecretAsync(
            _options.Namespace, labelSelector: ManagedSelector(), cancellationToken: token), cancellationToken);
        var instances = new List<RuntimeInstance>();
        foreach (var secret in secrets.Items ?? [])
        {
            if (secret.Metadata.Labels?.TryGetValue(RuntimeLabels.WorkspaceId, out var id) == true)
            {
                instances.Add(await InstanceAsync(id, secret, cancellationToken));
            }
        }

        return instances;
    }

    private Task<V1Secret?> ReadSecretAsync(string workspaceId, CancellationToken ct) =>
        FindAsync($"Looking up workspace {workspaceId}",
            token => _client.CoreV1.ReadNamespacedSecretAsync(ObjectName(workspaceId), _options.Namespace, cancellationToken: token), ct);

    /// <summary>The workspace as the runtime reports it: its pod from the watch, its gateway from its Service.</summary>
    private async Task<RuntimeInstance> InstanceAsync(string workspaceId, V1Secret secret, CancellationToken ct)
    {
        var name = ObjectName(workspaceId);
        var owner = secret.Metadata.Annotations?.TryGetValue(OwnerAnnotation, out var o) == true ? o : "";
        var template = TemplateOf(secret);
        var pod = await _pods.GetAsync(name, ct);
        var image = pod?.Spec?.Containers?.FirstOrDefault()?.Image ?? template.Spec.Containers[0].Image;
        if (pod is null)
        {
            var started = secret.Metadata.Annotations?.ContainsKey(StartedAnnotation) == true;
            return new RuntimeInstance(workspaceId, owner, name, image, started ? InstanceState.Exited : InstanceState.Created, null, null);
        }

        var state = pod.Metadata.DeletionTimestamp is not null ? InstanceState.Transitioning
            : IsRunning(pod) ? InstanceState.Running
            : pod.Status?.Phase is "Succeeded" or "Failed" ? InstanceState.Exited
            : InstanceState.Transitioning;
        var exitCode = state == InstanceState.Exited ? Terminated(pod)?.ExitCode ?? (pod.Status?.Phase == "Succeeded" ? 0 : 137) : (int?)null;
        Uri? gateway = null;
        if (state == InstanceState.Running && template.Spec.Containers[0].Ports?.FirstOrDefault() is { } port)
        {
            gateway = await GatewayUriAsync(workspaceId, port.ContainerPort, ct);
        }

        return new RuntimeInstance(workspaceId, owner, name, image, state, gateway, exitCode);
    }

    private async Task<Uri?> GatewayUriAsync(string workspaceId, int port, CancellationToken ct)
    {
        var name = ObjectName(workspaceId);
        if (_options.GatewayAddressing == GatewayAddressing.ServiceDns)
        {
            return new Uri($"http://{name}.{_options.Namespace}.svc.{_options.ClusterDomain}:{port.ToString(CultureInfo.InvariantCulture)}/");
        }

        var service = await FindAsync($"Looking up the Service of workspace {workspaceId}",
            token => _client.CoreV1.ReadNamespacedServiceAsync(name, _options.Namespace, cancellationToken: token), ct);
        var nodePort = service?.Spec?.Ports?.FirstOrDefault(p => p.Port == port)?.NodePort;
        return nodePort is { } n ? new Uri($"http://{_options.NodeAddress}:{n.ToString(CultureInfo.InvariantCulture)}/") : null;
    }

    private static bool IsRunning(V1Pod pod) =>
        pod.Status?.Phase == "Running" && pod.Metadata.DeletionTimestamp is null
        && pod.Status.ContainerStatuses?.FirstOrDefault(c => c.Name == WorkspaceContainer)?.State?.Running is not null;

    private static V1ContainerStateTerminated? Terminated(V1Pod pod) =>
        pod.Status?.ContainerStatuses?.FirstOrDefault(c => c.Name == WorkspaceContainer)?.State?.Terminated;

    /// <summary>A pending pod that will not run by waiting: its image cannot be pulled, or it cannot be made.</summary>
    private static string? Stuck(V1Pod pod)
    {
        var waiting = pod.Status?.ContainerStatuses?.FirstOrDefault(c => c.Name == WorkspaceContainer)?.State?.Waiting;
        return waiting?.Reason is "ErrImagePull" or "ImagePullBackOff" or "InvalidImageName" or "CreateContainerConfigError" or "CreateContainerError"
            ? $"{waiting.Reason}{(string.IsNullOrEmpty(waiting.Message) ? "" : $": {waiting.Message}")}"
            : null;
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Workspace {WorkspaceId}: adopting {Name}")]
    private static partial void LogAdopting(ILogger logger, string workspaceId, string name);

    [LoggerMessage(Level = LogLevel.Information, Message = "Workspace {WorkspaceId}: {Name} has no gateway of this workspace; replacing its pod")]
    private static partial void LogReplacing(ILogger logger, string workspaceId, string name);

    [LoggerMessage(Level = LogLevel.Information, Message = "Workspace {WorkspaceId}: pod {Name} ended ({Reason}); making a new one on the same volumes")]
    private static partial void LogReplacingEnded(ILogger logger, string workspaceId, string name, string reason);

    [LoggerMessage(Level = LogLevel.Information, Message = "Workspace {WorkspaceId}: created {Name} from {Image}")]
    private static partial void LogCreated(ILogger logger, string workspaceId, string name, string image);

    [LoggerMessage(Level = LogLevel.Information, Message = "Workspace {WorkspaceId}: deleted pod {Name}; its volumes are kept")]
    private static partial void LogStopped(ILogger logger, string workspaceId, string name);

    [LoggerMessage(Level = LogLevel.Information, Message = "Workspace {WorkspaceId}: removed its pod, Service, Secret and {Claims} PVC(s)")]
    private static partial void LogDeleted(ILogger logger, string workspaceId, int claims);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Workspace {WorkspaceId}: could not hand {Path} to {User}: {Output}")]
    private static partial void LogHandOverFailed(ILogger logger, string workspaceId, string path, string user, string output);
}
