using System.Formats.Tar;

namespace CloudDevEnv.Grains.Provisioning;

/// <summary>Unpacks the tar of a checkout made in a prepare container onto this host, bounded in size.</summary>
/// <remarks>The repository is untrusted input: only folders and regular files are written, each inside the target
/// folder. Symbolic and hard links are skipped, so that a devcontainer.json or build context cannot point this host's
/// reader at its own files (e.g. a link to /etc/shadow read as devcontainer.json, or sent to the engine in a build
/// context). Devices and fifos are skipped too. Modes keep only the permission bits, owned by this process.</remarks>
internal static class CheckoutArchive
{
    /// <summary>Spools the runtime's stream to a file next to <paramref name="target"/> (stopping at the limit), then
    /// unpacks it. Spooling keeps the tar reader off the engine's response stream, whose short reads it does not
    /// take well, and makes the limit hold for the bytes received, not only for what gets written.</summary>
    /// <returns>How many entries were skipped (links and special files).</returns>
    /// <exception cref="WorkspaceFailure">The archive exceeds <paramref name="maxBytes"/>.</exception>
    public static async Task<int> ExtractAsync(Stream tar, string target, long maxBytes, CancellationToken cancellationToken)
    {
        var spool = target + ".tar";
        try
        {
            await using (var file = new FileStream(spool, FileMode.Create, FileAccess.Write, FileShare.None, 81920, useAsync: true))
            {
                var buffer = new byte[81920];
                var received = 0L;
                int read;
                while ((read = await tar.ReadAsync(buffer, cancellationToken)) > 0)
                {
                    received += read;
                    if (received > maxBytes)
                    {
                        throw TooLarge(maxBytes);
                    }

                    await file.WriteAsync(buffer.AsMemory(0, read), cancellationToken);
                }
            }

            await using var spooled = new FileStream(spool, FileMode.Open, FileAccess.Read, FileShare.Read, 81920, useAsync: true);
            return await ExtractFileAsync(spooled, target, maxBytes, cancellationToken);
        }
        finally
        {
            File.Delete(spool);
        }
    }

    private static WorkspaceFailure TooLarge(long maxBytes) =>
        new($"The repository is larger than {maxBytes / (1024 * 1024.0):0.#} MiB (Provisioning:MaxCheckoutBytes), " +
            "too large to read its devcontainer.json; raise the limit or name an image in the request.",
            keepInstanceRunning: false);

    private static async Task<int> ExtractFileAsync(Stream tar, string target, long maxBytes, CancellationToken cancellationToken)
    {
        var root = Path.GetFullPath(Directory.CreateDirectory(target).FullName);
        var total = 0L;
        var skipped = 0;
        await using var reader = new TarReader(tar, leaveOpen: true);
        while (await reader.GetNextEntryAsync(copyData: false, cancellationToken) is { } entry)
        {
            var name = entry.Name.Replace('\\', '/');
            while (name.StartsWith("./", StringComparison.Ordinal))
            {
                name = name[2..];
            }

            name = name.TrimEnd('/');
            if (name.Length == 0 || name == ".")
            {
                continue;
            }

            var path = Path.GetFullPath(Path.Combine(root, name));
            if (name.StartsWith('/') || name.Split('/').Contains("..") || !path.StartsWith(root + Path.DirectorySeparatorChar, StringComparison.Ordinal))
            {
                skipped++;
                continue;
            }

            switch (entry.EntryType)
            {
                case TarEntryType.Directory:
                    Directory.CreateDirectory(path);
                    break;
                case TarEntryType.RegularFile or TarEntryType.V7RegularFile or TarEntryType.ContiguousFile:
                    total += entry.Length;
                    if (total > maxBytes)
                    {
                        throw TooLarge(maxBytes);
                    }

                    Directory.CreateDirectory(Path.GetDirectoryName(path)!);
                    await using (var file = new FileStream(path, FileMode.Create, FileAccess.Write, FileShare.None, 81920, useAsync: true))
                    {
                        if (entry.DataStream is { } data)
                        {
                            await data.CopyToAsync(file, cancellationToken);
                        }
                    }

                    if (!OperatingSystem.IsWindows())
                    {
                        // Keep the executable bits (build contexts run scripts), drop set-id bits; always readable by us.
                        File.SetUnixFileMode(path, (entry.Mode & (UnixFileMode)0b111_101_101) | UnixFileMode.UserRead | UnixFileMode.UserWrite);
                    }

                    break;
                default:
                    skipped++;
                    break;
            }
        }

        return skipped;
    }
}
