namespace CloudDevEnv.LocalStorage;

/// <summary>File operations that, once they return, survive a crash of the process or the machine.
/// A replacement is written to a temporary file in the same folder, flushed to disk, renamed over the
/// target (atomic on one file system) and then the folder itself is flushed so that the rename is on disk
/// too. A reader therefore sees the old content or the new one, never a mix.</summary>
internal static class DurableFile
{
    /// <summary>Suffix of the temporary files; leftovers of a crash are swept with <see cref="DeleteTemporaryFiles"/>.</summary>
    public const string TemporarySuffix = ".tmp";

    /// <summary>Replaces <paramref name="path"/> with <paramref name="content"/>. Blocking I/O runs on the
    /// thread pool so that a slow fsync never holds a grain's scheduler.</summary>
    public static Task WriteAsync(string path, ReadOnlyMemory<byte> content) => Task.Run(() => Write(path, content.Span));

    public static void Write(string path, ReadOnlySpan<byte> content)
    {
        var directory = Path.GetDirectoryName(path)!;
        var temporary = Path.Combine(directory, $".{Path.GetFileName(path)}.{Guid.NewGuid():N}{TemporarySuffix}");
        try
        {
            using (var stream = new FileStream(temporary, new FileStreamOptions
            {
                Mode = FileMode.CreateNew,
                Access = FileAccess.Write,
                Share = FileShare.None,
                PreallocationSize = content.Length,
            }))
            {
                stream.Write(content);
                stream.Flush(flushToDisk: true);
            }

            File.Move(temporary, path, overwrite: true);
        }
        catch
        {
            TryDelete(temporary);
            throw;
        }

        DirectorySync.Flush(directory);
    }

    /// <summary>Replaces <paramref name="path"/> with the whole of <paramref name="content"/>, streamed rather than held in
    /// memory (a workspace snapshot can be larger than memory), with the same guarantees as <see cref="Write"/>.</summary>
    /// <returns>The number of bytes written.</returns>
    public static async Task<long> WriteAsync(string path, Stream content, CancellationToken cancellationToken)
    {
        var directory = Path.GetDirectoryName(path)!;
        var temporary = Path.Combine(directory, $".{Path.GetFileName(path)}.{Guid.NewGuid():N}{TemporarySuffix}");
        long length;
        try
        {
            await using (var stream = new FileStream(temporary, new FileStreamOptions
            {
                Mode = FileMode.CreateNew,
                Access = FileAccess.Write,
                Share = FileShare.None,
                Options = FileOptions.Asynchronous,
            }))
            {
                await content.CopyToAsync(stream, cancellationToken);
                length = stream.Length;
                await Task.Run(() => stream.Flush(flushToDisk: true), cancellationToken);
            }

            File.Move(temporary, path, overwrite: true);
        }
        catch
        {
            TryDelete(temporary);
            throw;
        }

        await Task.Run(() => DirectorySync.Flush(directory), CancellationToken.None);
        return length;
    }

    /// <summary>Deletes <paramref name="path"/> if it exists; returns whether it did.</summary>
    public static Task<bool> DeleteAsync(string path) => Task.Run(() =>
    {
        if (!File.Exists(path))
        {
            return false;
        }

        File.Delete(path);
        DirectorySync.Flush(Path.GetDirectoryName(path)!);
        return true;
    });

    /// <summary>Creates a folder and any missing parents, flushing each parent so that the new entries
    /// are on disk before a file in them is acknowledged.</summary>
    public static void CreateDirectory(string path)
    {
        if (System.IO.Directory.Exists(path))
        {
            return;
        }

        var parent = Path.GetDirectoryName(path);
        if (parent is not null)
        {
            CreateDirectory(parent);
        }

        System.IO.Directory.CreateDirectory(path);
        if (parent is not null)
        {
            DirectorySync.Flush(parent);
        }
    }

    /// <summary>Throws if a file cannot be created, flushed and deleted in <paramref name="directory"/>.</summary>
    public static void ProbeWritable(string directory)
    {
        var probe = Path.Combine(directory, $".write-probe.{Guid.NewGuid():N}{TemporarySuffix}");
        try
        {
            using var stream = new FileStream(probe, FileMode.CreateNew, FileAccess.Write, FileShare.None);
            stream.WriteByte(0);
            stream.Flush(flushToDisk: true);
        }
        finally
        {
            TryDelete(probe);
        }
    }

    /// <summary>Deletes what an interrupted <see cref="Write"/> left behind under <paramref name="directory"/>.
    /// Only safe while nothing writes there, i.e. at start-up.</summary>
    public static int DeleteTemporaryFiles(string directory, SearchOption searchOption)
    {
        if (!System.IO.Directory.Exists(directory))
        {
            return 0;
        }

        var deleted = 0;
        foreach (var file in System.IO.Directory.EnumerateFiles(directory, "*" + TemporarySuffix, searchOption))
        {
            if (Path.GetFileName(file).StartsWith('.') && TryDelete(file))
            {
                deleted++;
            }
        }

        return deleted;
    }

    private static bool TryDelete(string path)
    {
        try
        {
            File.Delete(path);
            return true;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return false;
        }
    }
}
