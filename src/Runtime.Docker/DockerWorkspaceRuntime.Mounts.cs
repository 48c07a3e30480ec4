using System.Formats.Tar;
using System.Globalization;
using System.Net;
using Docker.DotNet;
using Docker.DotNet.Models;
using Microsoft.Extensions.Logging;

namespace CloudDevEnv.Runtime.Docker;

// Mounts: the workspace's volumes, the IDE bundle, and handing the workspaces folder to a non-root user.
public sealed partial class DockerWorkspaceRuntime
{
    private Task EnsureVolumeAsync(string name, IReadOnlyDictionary<string, string> labels, string role, CancellationToken ct) =>
        EngineAsync($"Creating volume {name}", async token =>
        {
            var all = new Dictionary<string, string>(labels) { [VolumeRoleLabel] = role };
            return await _client.Volumes.CreateAsync(new VolumesCreateParameters { Name = name, Labels = all }, token);
        }, ct);

    private async Task<Mount?> IdeBundleMountAsync(CancellationToken ct)
    {
        var source = _options.IdeBundleSource.Trim();
        if (source.Equals("none", StringComparison.OrdinalIgnoreCase))
        {
            return null;
        }

        if (source.StartsWith('/'))
        {
            if (_endpoint.StartsWith("unix://", StringComparison.Ordinal) && !Directory.Exists(source))
            {
                throw new WorkspaceRuntimeException(
                    $"The IDE bundle folder {source} does not exist; run scripts/build-images.sh with CDE_IDE_HOST_DIR={source}.", isPermanent: true);
            }

            return new Mount { Type = "bind", Source = source, Target = _options.IdeBundleTarget, ReadOnly = true };
        }

        await EngineAsync($"Looking up the IDE bundle volume {source}", async token =>
        {
            try
            {
                return await _client.Volumes.InspectAsync(source, token);
            }
            catch (DockerApiException e) when (e.StatusCode == HttpStatusCode.NotFound)
            {
                throw new WorkspaceRuntimeException(
                    $"The IDE bundle volume {source} does not exist; run scripts/build-images.sh.", isPermanent: true, e);
            }
        }, ct);
        return new Mount
        {
            Type = "volume",
            Source = source,
            Target = _options.IdeBundleTarget,
            ReadOnly = true,
            VolumeOptions = new VolumeOptions { NoCopy = true },
        };
    }

    /// <summary>A fresh volume mounted where the image has no folder is owned by root, and a non-root workspace
    /// user could not clone into it; exec cannot fix that later (with no-new-privileges, root in an exec of a
    /// non-root container has no capabilities). So, before the first start, the engine's archive API (which
    /// writes with the engine's rights) re-creates the folder owned by that user. Best effort.</summary>
    private async Task HandWorkspacesToUserAsync(string workspaceId, string containerId, string user, CancellationToken ct)
    {
        try
        {
            var (uid, gid) = await ResolveUserAsync(containerId, user, ct);
            if (uid is null || uid == 0)
            {
                return;
            }

            var path = _options.WorkspacesPath.TrimEnd('/');
            var parent = path[..path.LastIndexOf('/')];
            using var tar = new MemoryStream();
            using (var writer = new TarWriter(tar, TarEntryFormat.Pax, leaveOpen: true))
            {
                writer.WriteEntry(new PaxTarEntry(TarEntryType.Directory, path[(path.LastIndexOf('/') + 1)..] + "/")
                {
                    Uid = uid.Value,
                    Gid = gid ?? uid.Value,
                    Mode = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute |
                           UnixFileMode.GroupRead | UnixFileMode.GroupExecute | UnixFileMode.OtherRead | UnixFileMode.OtherExecute,
                    ModificationTime = DateTimeOffset.UtcNow,
                });
            }

            tar.Position = 0;
            await EngineAsync($"Handing {path} to {user}", async token =>
            {
                await _client.Containers.ExtractArchiveToContainerAsync(
                    containerId, new CopyToContainerParameters { Path = parent.Length == 0 ? "/" : parent }, tar, token);
                return true;
            }, ct);
        }
        catch (WorkspaceRuntimeException e)
        {
            _logger.LogWarning("Workspace {WorkspaceId}: could not hand {Path} to {User}: {Message}", workspaceId, _options.WorkspacesPath, user, e.Message);
        }
    }

    /// <summary>The numeric uid and gid of "user[:group]", looked up in the container's /etc/passwd and /etc/group.</summary>
    private async Task<(int? Uid, int? Gid)> ResolveUserAsync(string containerId, string user, CancellationToken ct)
    {
        var parts = user.Split(':', 2);
        int? uid = int.TryParse(parts[0], NumberStyles.None, CultureInfo.InvariantCulture, out var u) ? u : null;
        int? gid = parts.Length > 1 && int.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out var g) ? g : null;
        if (uid is null || parts.Length == 1)
        {
            foreach (var line in await ReadContainerFileAsync(containerId, "/etc/passwd", ct))
            {
                var f = line.Split(':');
                if (f.Length >= 4 && (f[0] == parts[0] || f[2] == parts[0]))
                {
                    uid ??= int.TryParse(f[2], NumberStyles.None, CultureInfo.InvariantCulture, out var pu) ? pu : null;
                    if (parts.Length == 1)
                    {
                        gid ??= int.TryParse(f[3], NumberStyles.None, CultureInfo.InvariantCulture, out var pg) ? pg : null;
                    }

                    break;
                }
            }
        }

        if (parts.Length > 1 && gid is null)
        {
            foreach (var line in await ReadContainerFileAsync(containerId, "/etc/group", ct))
            {
                var f = line.Split(':');
                if (f.Length >= 3 && f[0] == parts[1])
                {
                    gid = int.TryParse(f[2], NumberStyles.None, CultureInfo.InvariantCulture, out var gg) ? gg : null;
                    break;
                }
            }
        }

        return (uid, gid);
    }

    /// <summary>A user database of an image is a few kilobytes; a hostile image's could be gigabytes.</summary>
    private const int MaxContainerFileBytes = 1024 * 1024;

    private async Task<IReadOnlyList<string>> ReadContainerFileAsync(string containerId, string path, CancellationToken ct)
    {
        try
        {
            return await EngineAsync($"Reading {path}", async token =>
            {
                var response = await _client.Containers.GetArchiveFromContainerAsync(containerId, new ContainerPathStatParameters { Path = path }, statOnly: false, token);
                if (response.Stat?.Size > MaxContainerFileBytes)
                {
                    _logger.LogWarning("{Path} of container {Container} holds {Size} bytes, more than the {Limit} read: left unread", path, containerId, response.Stat.Size, MaxContainerFileBytes);
                    return (IReadOnlyList<string>)[];
                }

                await using var stream = response.Stream ?? Stream.Null;
                using var buffer = new MemoryStream();
                var chunk = new byte[81920];
                int read;
                while ((read = await stream.ReadAsync(chunk, token)) > 0)
                {
                    // The tar adds headers around the file; anything far past the limit is not a user database.
                    if (buffer.Length + read > MaxContainerFileBytes + 64 * 1024)
                    {
                        _logger.LogWarning("{Path} of container {Container} is larger than the {Limit} bytes read: left unread", path, containerId, MaxContainerFileBytes);
                        return [];
                    }

                    buffer.Write(chunk, 0, read);
                }

                buffer.Position = 0;
                using var reader = new TarReader(buffer);
                if (reader.GetNextEntry() is { DataStream: { } data })
                {
                    using var text = new StreamReader(data);
                    return (IReadOnlyList<string>)text.ReadToEnd().Split('\n');
                }

                return [];
            }, ct);
        }
        catch (WorkspaceRuntimeException)
        {
            return [];
        }
    }

    private static bool IsRoot(string? user)
    {
        if (string.IsNullOrWhiteSpace(user))
        {
            return true;
        }

        var name = user.Split(':')[0].Trim();
        return name is "" or "root" or "0";
    }
}
