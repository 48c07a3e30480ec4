using System.Collections.Concurrent;
using CloudDevEnv.Runtime;

namespace CloudDevEnv.TestDoubles;

/// <summary>A test double of <see cref="IWorkspaceRuntime"/>: instances live in memory. Tests steer it
/// (fail the next calls, block an operation, kill an instance behind the grain's back) and read what
/// it was asked to do. Thread-safe: one instance is shared by every silo of a test cluster.</summary>
public sealed class WorkspaceRuntimeDouble : IWorkspaceRuntime
{
    private readonly ConcurrentDictionary<string, Instance> _instances = new();
    private readonly ConcurrentDictionary<string, int> _calls = new();
    private readonly ConcurrentDictionary<string, ConcurrentQueue<Exception>> _failures = new();
    private readonly ConcurrentDictionary<string, TaskCompletionSource> _gates = new();
    private readonly ConcurrentDictionary<(string Workspace, string Fragment), TaskCompletionSource> _heldExecs = new();

    public string Name => "double";

    /// <summary>One per double: the silos sharing a double share its instances.</summary>
    public string Scope { get; } = "double|" + Guid.NewGuid().ToString("N");

    /// <summary>The double records companions with the spec and runs none: a test that needs them runs on the engine.</summary>
    public bool RunsCompanions { get; set; } = true;

    /// <summary>Null: the double keeps no volumes, so checkouts are copied in as on Kubernetes.</summary>
    public string? WorkspaceVolumePath => null;

    /// <summary>Where the endpoints of running instances point (e.g. a Kestrel server in a proxy test).</summary>
    public Uri EndpointBase { get; set; } = new("http://127.0.0.1:9/");

    /// <summary>Answers exec calls; the default succeeds, and knows whether a clone happened.</summary>
    public Func<string, ExecRequest, ExecResult?>? ExecHandler { get; set; }

    /// <summary>Called as a restore begins: may write files and throw, as a restore cut short would leave it.</summary>
    public Action<string>? RestoreHandler { get; set; }

    /// <summary>Whether the IDE answers; by default once it has been started by a detached exec.</summary>
    public Func<string, bool>? ProbeHandler { get; set; }

    /// <summary>Images that do not exist anywhere: preparing one fails permanently.</summary>
    public ConcurrentBag<string> MissingImages { get; } = [];

    /// <summary>What <see cref="InspectImageAsync"/> says of an image; images not in here have no user and no labels.</summary>
    public ConcurrentDictionary<string, ImageInfo> Images { get; } = new();

    /// <summary>The files of a repository by URL (relative path → content): a "git clone" of that URL puts them in
    /// the clone's folder, and <see cref="ArchiveAsync"/> of that folder returns them as a tar.</summary>
    public ConcurrentDictionary<string, IReadOnlyDictionary<string, string>> RepositoryFiles { get; } = new();

    /// <summary>Every instance spec ever created, in order (instances removed since included).</summary>
    public IReadOnlyList<InstanceSpec> Created => [.. _created];

    private readonly ConcurrentQueue<InstanceSpec> _created = new();

    /// <summary>Writes a file inside the instance, as a user's editor would: snapshots of a folder above it carry it.</summary>
    public void WriteFile(string workspaceId, string path, string content)
    {
        var instance = Get(workspaceId);
        instance.Files[path] = true;
        instance.Contents[path] = System.Text.Encoding.UTF8.GetBytes(content);
    }

    /// <summary>A file written by <see cref="WriteFile"/> or restored from a tar, or null.</summary>
    public string? ReadFile(string workspaceId, string path) =>
        _instances.TryGetValue(workspaceId, out var instance) && instance.Contents.TryGetValue(path, out var bytes)
            ? System.Text.Encoding.UTF8.GetString(bytes)
            : null;

    public int Calls(string operation) => _calls.GetValueOrDefault(operation);

    /// <summary>Calls of <paramref name="operation"/> for one workspace (every call, whether it created, adopted or failed).</summary>
    public int Calls(string operation, string workspaceId) => _calls.GetValueOrDefault($"{operation}:{workspaceId}");

    public bool Exists(string workspaceId) => _instances.ContainsKey(workspaceId);

    public IReadOnlyList<ExecRequest> Execs(string workspaceId) =>
        _instances.TryGetValue(workspaceId, out var instance) ? [.. instance.Execs] : [];

    /// <summary>Makes the next call of <paramref name="operation"/> throw <paramref name="exception"/>.</summary>
    public void FailNext(string operation, Exception exception) =>
        _failures.GetOrAdd(operation, _ => new ConcurrentQueue<Exception>()).Enqueue(exception);

    /// <summary>For <see cref="Block"/>: creating the workspace's instance waits once it exists, before the caller hears of it.</summary>
    public static string AfterCreate(string workspaceId) => $"CreateAsync:after:{workspaceId}";

    /// <summary>Makes calls of <paramref name="operation"/> wait until <see cref="Release"/>.</summary>
    /// <summary>Holds the workspace's execs whose command has an argument containing <paramref name="fragment"/> (a slow
    /// hook) until the returned source completes, or the exec is cancelled (the container stops).</summary>
    public TaskCompletionSource HoldExec(string workspaceId, string fragment)
    {
        var held = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        _heldExecs[(workspaceId, fragment)] = held;
        return held;
    }

    public void Block(string operation) => _gates[operation] = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);

    public void Release(string operation)
    {
        if (_gates.TryRemove(operation, out var gate))
        {
            gate.TrySetResult();
        }
    }

    /// <summary>The container died behind the platform's back.</summary>
    public void Kill(string workspaceId, int exitCode = 137)
    {
        if (_instances.TryGetValue(workspaceId, out var instance))
        {
            instance.State = InstanceState.Exited;
            instance.ExitCode = exitCode;
            instance.IdeStarted = false;
        }
    }

    /// <summary>The IDE process died inside a container that keeps running.</summary>
    public void StopIde(string workspaceId)
    {
        if (_instances.TryGetValue(workspaceId, out var instance))
        {
            instance.IdeStarted = false;
        }
    }

    /// <summary>The container was removed behind the platform's back (volumes gone too).</summary>
    public void Remove(string workspaceId) => _instances.TryRemove(workspaceId, out _);

    public async Task<PreparedImage> PrepareImageAsync(ImageRequest request, IProgress<string> log, CancellationToken cancellationToken)
    {
        await EnterAsync(nameof(PrepareImageAsync), cancellationToken);
        if (MissingImages.Contains(request.Image))
        {
            throw new WorkspaceRuntimeException($"The image '{request.Image}' does not exist.", isPermanent: true);
        }

        log.Report($"prepared {request.Image}");
        return new PreparedImage(request.Image, request.Build is not null);
    }

    public async Task<RuntimeInstance> CreateAsync(InstanceSpec spec, CancellationToken cancellationToken)
    {
        await EnterAsync(nameof(CreateAsync), cancellationToken, spec.WorkspaceId);
        var instance = _instances.GetOrAdd(spec.WorkspaceId, _ =>
        {
            _created.Enqueue(spec);
            return new Instance(spec);
        });
        if (_gates.TryGetValue(AfterCreate(spec.WorkspaceId), out var gate))
        {
            await gate.Task.WaitAsync(cancellationToken);
        }

        return instance.Snapshot(EndpointBase);
    }

    public async Task StartAsync(string workspaceId, CancellationToken cancellationToken)
    {
        await EnterAsync(nameof(StartAsync), cancellationToken, workspaceId);
        Get(workspaceId).State = InstanceState.Running;
    }

    public async Task StopAsync(string workspaceId, TimeSpan grace, CancellationToken cancellationToken)
    {
        await EnterAsync(nameof(StopAsync), cancellationToken, workspaceId);
        if (_instances.TryGetValue(workspaceId, out var instance))
        {
            instance.State = InstanceState.Exited;
            instance.IdeStarted = false;
        }
    }

    public async Task DeleteAsync(string workspaceId, CancellationToken cancellationToken)
    {
        await EnterAsync(nameof(DeleteAsync), cancellationToken, workspaceId);
        _instances.TryRemove(workspaceId, out _);
    }

    public async Task<RuntimeInstance?> InspectAsync(string workspaceId, CancellationToken cancellationToken)
    {
        await EnterAsync(nameof(InspectAsync), cancellationToken, workspaceId);
        return _instances.TryGetValue(workspaceId, out var instance) ? instance.Snapshot(EndpointBase) : null;
    }

    public async Task<IReadOnlyList<RuntimeInstance>> ListAsync(CancellationToken cancellationToken)
    {
        await EnterAsync(nameof(ListAsync), cancellationToken);
        return [.. _instances.Values.Select(i => i.Snapshot(EndpointBase))];
    }

    public async Task<ExecResult> ExecAsync(string workspaceId, ExecRequest request, IProgress<string> output, CancellationToken cancellationToken)
    {
        await EnterAsync(nameof(ExecAsync), cancellationToken, workspaceId);
        var instance = Get(workspaceId);
        if (instance.State != InstanceState.Running)
        {
            throw new WorkspaceRuntimeException($"Container of {workspaceId} is not running.", isPermanent: false);
        }

        instance.Execs.Enqueue(request);
        foreach (var ((workspace, fragment), held) in _heldExecs)
        {
            if (workspace == workspaceId && request.Command.Any(a => a.Contains(fragment, StringComparison.Ordinal)))
            {
                await held.Task.WaitAsync(cancellationToken);
            }
        }

        if (ExecHandler?.Invoke(workspaceId, request) is { } handled)
        {
            output.Report(handled.OutputTail);
            return handled;
        }

        // Enough of a shell to follow the grain's steps: "test -e .../.git", "git clone", the IDE start.
        var command = request.Command;
        if (command is ["test", "-e", var path])
        {
            return new ExecResult(instance.Files.ContainsKey(path) ? 0 : 1, string.Empty);
        }

        if (command is ["mv", "-T", "--", var from, var to])
        {
            instance.Move(from, to);
            return new ExecResult(0, string.Empty);
        }

        if (command is ["rm", "-f", "--", var removed])
        {
            instance.Files.TryRemove(removed, out _);
            instance.Contents.TryRemove(removed, out _);
            return new ExecResult(0, string.Empty);
        }

        if (command is ["touch", var touched])
        {
            instance.Files[touched] = true;
            return new ExecResult(0, string.Empty);
        }

        if (command is ["ls", "-A", var folder])
        {
            var children = instance.Under(folder).Select(p => p[(folder.TrimEnd('/').Length + 1)..].Split('/')[0]).Distinct().Order(StringComparer.Ordinal);
            return new ExecResult(0, string.Join('\n', children));
        }

        if (command.Count >= 5 && command[0] == "/bin/sh" && command[3] == "cde-clean")
        {
            var cleaned = command[4];
            var kept = command.Skip(5).ToList();
            // find <folder> -mindepth 1 [! -path <kept>] -delete
            foreach (var file in instance.Under(cleaned).Where(f => !kept.Contains(f)).ToList())
            {
                instance.Files.TryRemove(file, out _);
                instance.Contents.TryRemove(file, out _);
            }

            return new ExecResult(0, string.Empty);
        }

        if (command is ["/bin/sh", "-c", _, "cde-place", var placed, var staging, var checkout, _, var mode])
        {
            // The provisioner's placement of a clone: present, adopted from the volume (never here: no volumes), placed.
            if (instance.Files.ContainsKey(placed + "/.git"))
            {
                return new ExecResult(10, string.Empty);
            }

            if (mode == "adopt" && (checkout.Length == 0 || !instance.Files.ContainsKey(checkout + "/.git")))
            {
                return new ExecResult(3, string.Empty);
            }

            if (instance.Files.ContainsKey(placed))
            {
                return new ExecResult(4, string.Empty);
            }

            instance.Move(mode == "adopt" ? checkout : staging, placed);
            return new ExecResult(0, string.Empty);
        }

        if (command.Count >= 4 && command[0] == "/bin/sh" && command[3] == "cde-hooks")
        {
            // The lifecycle survey: (kind, key) pairs; a creation hook is done when its marker or the restore's is there. The
            // double cannot tell one container start from another, so a start hook is never done.
            var done = command.Skip(4).Chunk(2).Select((pair, index) => (pair, index))
                .Where(h => h.pair[0] == "create" && (instance.Files.ContainsKey("/tmp/.clouddevenv-created-hooks-done") || instance.Files.ContainsKey("/tmp/.clouddevenv-hook-" + h.pair[1])))
                .Select(h => h.index.ToString(System.Globalization.CultureInfo.InvariantCulture));
            return new ExecResult(0, string.Join('\n', done));
        }

        if (command.Count > 1 && command[0] == "git" && command.Contains("clone"))
        {
            instance.Files[command[^1] + "/.git"] = true;
            instance.Clones[command[^1]] = command[^2];
            output.Report("Cloning into '" + command[^1] + "'...");
            return new ExecResult(0, "Cloning into '" + command[^1] + "'...");
        }

        if (request.Detached)
        {
            instance.IdeStarted = true;
        }

        return new ExecResult(0, string.Empty);
    }

    public async Task<bool> ProbeIdeAsync(string workspaceId, CancellationToken cancellationToken)
    {
        await EnterAsync(nameof(ProbeIdeAsync), cancellationToken, workspaceId);
        if (ProbeHandler is { } probe)
        {
            return probe(workspaceId);
        }

        return _instances.TryGetValue(workspaceId, out var instance) && instance.State == InstanceState.Running && instance.IdeStarted;
    }

    /// <summary>Every image saved: its reference by digest (the digest made from the reference), and what was asked.</summary>
    public ConcurrentQueue<(string WorkspaceId, ImageSave Save)> Saved { get; } = new();

    public async Task<string> SaveImageAsync(string workspaceId, ImageSave save, IProgress<string> log, CancellationToken cancellationToken)
    {
        await EnterAsync(nameof(SaveImageAsync), cancellationToken, workspaceId);
        Get(workspaceId);
        Saved.Enqueue((workspaceId, save));
        var digest = $"{save.Repository}@sha256:{Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(save.Repository + ":" + save.Tag)))}";
        Images[digest] = new ImageInfo(digest, null, new Dictionary<string, string>(save.Labels), Digest: digest);
        return digest;
    }

    public async Task<ImageInfo?> InspectImageAsync(string image, CancellationToken cancellationToken)
    {
        await EnterAsync(nameof(InspectImageAsync), cancellationToken);
        return MissingImages.Contains(image) ? null : Images.GetValueOrDefault(image) ?? new ImageInfo(image, null, new Dictionary<string, string>());
    }

    /// <summary>A tar of a clone's folder: the files of <see cref="RepositoryFiles"/> for the URL cloned there. Of any
    /// other folder: the files the double knows below it (clone markers such as <c>.git</c>, files written with
    /// <see cref="WriteFile"/> or restored), names relative to the folder as Docker's archive has them.</summary>
    public async Task<Stream> ArchiveAsync(string workspaceId, string path, CancellationToken cancellationToken)
    {
        await EnterAsync(nameof(ArchiveAsync), cancellationToken, workspaceId);
        var instance = Get(workspaceId);
        if (!instance.Clones.TryGetValue(path, out var url))
        {
            return instance.Archive(path);
        }

        var tar = new MemoryStream();
        using (var writer = new System.Formats.Tar.TarWriter(tar, leaveOpen: true))
        {
            writer.WriteEntry(new System.Formats.Tar.PaxTarEntry(System.Formats.Tar.TarEntryType.Directory, "./"));
            foreach (var (name, content) in RepositoryFiles.GetValueOrDefault(url) ?? new Dictionary<string, string>())
            {
                writer.WriteEntry(new System.Formats.Tar.PaxTarEntry(System.Formats.Tar.TarEntryType.RegularFile, "./" + name)
                {
                    DataStream = new MemoryStream(System.Text.Encoding.UTF8.GetBytes(content)),
                });
            }
        }

        tar.Position = 0;
        return tar;
    }

    /// <summary>Unpacks the regular files of <paramref name="tar"/> below <paramref name="path"/>.</summary>
    public async Task RestoreAsync(string workspaceId, string path, Stream tar, CancellationToken cancellationToken)
    {
        await EnterAsync(nameof(RestoreAsync), cancellationToken, workspaceId);
        RestoreHandler?.Invoke(workspaceId);
        var instance = Get(workspaceId);
        using var reader = new System.Formats.Tar.TarReader(tar, leaveOpen: true);
        while (await reader.GetNextEntryAsync(copyData: true, cancellationToken) is { } entry)
        {
            if (entry.EntryType is not (System.Formats.Tar.TarEntryType.RegularFile or System.Formats.Tar.TarEntryType.V7RegularFile))
            {
                continue;
            }

            var target = path.TrimEnd('/') + "/" + (entry.Name.StartsWith("./", StringComparison.Ordinal) ? entry.Name[2..] : entry.Name);
            using var content = new MemoryStream();
            if (entry.DataStream is { } data)
            {
                await data.CopyToAsync(content, cancellationToken);
            }

            instance.Files[target] = true;
            instance.Contents[target] = content.ToArray();
        }
    }

    private async Task EnterAsync(string operation, CancellationToken cancellationToken, string? workspaceId = null)
    {
        _calls.AddOrUpdate(operation, 1, (_, n) => n + 1);
        if (workspaceId is not null)
        {
            _calls.AddOrUpdate($"{operation}:{workspaceId}", 1, (_, n) => n + 1);
        }

        if (_gates.TryGetValue(operation, out var gate))
        {
            await gate.Task.WaitAsync(cancellationToken);
        }

        if (_failures.TryGetValue(operation, out var queue) && queue.TryDequeue(out var failure))
        {
            throw failure;
        }
    }

    private Instance Get(string workspaceId) =>
        _instances.TryGetValue(workspaceId, out var instance)
            ? instance
            : throw new WorkspaceRuntimeException($"No container for {workspaceId}.", isPermanent: false);

    private sealed class Instance(InstanceSpec spec)
    {
        public InstanceSpec Spec { get; } = spec;

        public volatile InstanceState State = InstanceState.Created;

        public int? ExitCode { get; set; }

        public volatile bool IdeStarted;

        public ConcurrentDictionary<string, bool> Files { get; } = new();

        /// <summary>Clone folder → the URL cloned there.</summary>
        public ConcurrentDictionary<string, string> Clones { get; } = new();

        public ConcurrentQueue<ExecRequest> Execs { get; } = new();

        /// <summary>File path → content, for files written or restored; other known files are empty.</summary>
        public ConcurrentDictionary<string, byte[]> Contents { get; } = new();

        /// <summary>Renames a folder, as <c>mv -T</c> does.</summary>
        public void Move(string from, string to)
        {
            foreach (var path in Under(from).ToList())
            {
                var target = to.TrimEnd('/') + path[from.TrimEnd('/').Length..];
                Files.TryRemove(path, out _);
                Files[target] = true;
                if (Contents.TryRemove(path, out var content))
                {
                    Contents[target] = content;
                }
            }

            if (Clones.TryRemove(from, out var url))
            {
                Clones[to] = url;
            }
        }

        public IEnumerable<string> Under(string folder)
        {
            var prefix = folder.TrimEnd('/') + "/";
            return Files.Keys.Where(p => p.StartsWith(prefix, StringComparison.Ordinal));
        }

        public MemoryStream Archive(string folder)
        {
            var tar = new MemoryStream();
            using (var writer = new System.Formats.Tar.TarWriter(tar, leaveOpen: true))
            {
                writer.WriteEntry(new System.Formats.Tar.PaxTarEntry(System.Formats.Tar.TarEntryType.Directory, "./"));
                foreach (var file in Under(folder).Order(StringComparer.Ordinal))
                {
                    writer.WriteEntry(new System.Formats.Tar.PaxTarEntry(System.Formats.Tar.TarEntryType.RegularFile, "." + file[folder.TrimEnd('/').Length..])
                    {
                        DataStream = new MemoryStream(Contents.GetValueOrDefault(file) ?? []),
                    });
                }
            }

            tar.Position = 0;
            return tar;
        }

        public RuntimeInstance Snapshot(Uri endpointBase) => new(
            Spec.WorkspaceId,
            Spec.Owner,
            "double-" + Spec.WorkspaceId,
            Spec.Image,
            State,
            State == InstanceState.Running && Spec.Gateway is not null ? endpointBase : null,
            State == InstanceState.Exited ? ExitCode : null);
    }
}
