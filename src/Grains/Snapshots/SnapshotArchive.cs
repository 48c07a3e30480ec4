using System.Formats.Tar;
using System.IO.Pipelines;

namespace CloudDevEnv.Grains.Snapshots;

/// <summary>The snapshot format: one tar whose entries are named from the container's root, <c>workspaces/…</c> then
/// <c>home/…</c>, so that it unpacks at <c>/</c> in one call. Made by re-writing the runtime's archives of each folder
/// entry by entry as they stream through (nothing is held whole in memory or written to the silo's disk), and read back
/// the same way, which is where a restore drops what a snapshot must not hold and checks its digest.</summary>
public static class SnapshotArchive
{
    /// <summary>One folder a snapshot keeps: its path in the container, and the name its entries get in the snapshot.</summary>
    public sealed record Part(string Path, Func<CancellationToken, Task<Stream>> Open)
    {
        public string Prefix => Path.Trim('/') + "/";
    }

    /// <summary>The snapshot of <paramref name="parts"/> (each a tar of the folder with names relative to it, as a
    /// runtime archives <c>folder/.</c>), leaving out what <paramref name="exclude"/> says (given the snapshot name).</summary>
    public static ProducedStream Combine(IReadOnlyList<Part> parts, Func<string, bool> exclude, CancellationToken cancellationToken) =>
        ProducedStream.Start(async (output, token) =>
        {
            await using var writer = new TarWriter(output, TarEntryFormat.Pax, leaveOpen: true);
            foreach (var part in parts)
            {
                await using var source = await part.Open(token);
                await using var reader = new TarReader(source, leaveOpen: true);
                while (await reader.GetNextEntryAsync(copyData: false, token) is { } entry)
                {
                    if (Rename(entry.Name, part.Prefix) is not { } name || exclude(name) || !IsKept(entry.EntryType))
                    {
                        continue;
                    }

                    var copy = Copy(entry, name);
                    if (entry.EntryType == TarEntryType.HardLink)
                    {
                        if (Rename(entry.LinkName, part.Prefix) is not { } target || exclude(target))
                        {
                            continue;
                        }

                        copy.LinkName = target;
                    }

                    await writer.WriteEntryAsync(copy, token);
                }
            }
        }, cancellationToken);

    /// <summary>The snapshot <paramref name="stored"/> as it may be unpacked at <c>/</c>: only entries below the kept
    /// folders, none climbing out (<c>..</c>), no devices; a snapshot of the format before home folders were kept (names
    /// relative to /workspaces) renamed into it. Its SHA-256 is checked against <paramref name="sha256"/> once the whole
    /// object has been read: a mismatch, or a tar that does not parse, fails the stream with
    /// <see cref="CorruptSnapshotException"/> before it ends, so the unpacking fails rather than finishes.</summary>
    public static ProducedStream ForRestore(Stream stored, string? sha256, IReadOnlyList<string> prefixes, CancellationToken cancellationToken) =>
        ProducedStream.Start(async (output, token) =>
        {
            await using var hashing = new HashingReadStream(stored);
            await using var writer = new TarWriter(output, TarEntryFormat.Pax, leaveOpen: true);
            using var reader = new TarReader(hashing, leaveOpen: true);
            var legacy = (bool?)null;
            while (await NextAsync(reader, token) is { } entry)
            {
                legacy ??= !prefixes.Any(p => entry.Name.StartsWith(p, StringComparison.Ordinal) || entry.Name == p.TrimEnd('/'));
                var name = legacy.Value ? Rename(entry.Name, prefixes[0]) : Safe(entry.Name, prefixes);
                if (name is null || !IsKept(entry.EntryType))
                {
                    continue;
                }

                var copy = Copy(entry, name);
                if (entry.EntryType == TarEntryType.HardLink)
                {
                    if ((legacy.Value ? Rename(entry.LinkName, prefixes[0]) : Safe(entry.LinkName, prefixes)) is not { } target)
                    {
                        continue;
                    }

                    copy.LinkName = target;
                }

                await writer.WriteEntryAsync(copy, token);
            }

            var actual = await hashing.ReadToEndAsync(token);
            if (sha256 is not null && !string.Equals(actual, sha256, StringComparison.OrdinalIgnoreCase))
            {
                throw new CorruptSnapshotException($"its SHA-256 is {actual[..12]}…, not the {sha256[..Math.Min(12, sha256.Length)]}… recorded when it was taken");
            }
        }, cancellationToken);

    private static async Task<TarEntry?> NextAsync(TarReader reader, CancellationToken cancellationToken)
    {
        try
        {
            return await reader.GetNextEntryAsync(copyData: false, cancellationToken);
        }
        catch (Exception e) when (e is InvalidDataException or FormatException or EndOfStreamException or ArgumentException)
        {
            throw new CorruptSnapshotException($"it is not a readable tar ({e.Message})");
        }
    }

    /// <summary>The entry under its snapshot name. Its data streams straight from the archive being read: the writer needs
    /// its length before the data, which the entry's header gave, so a forward-only source need not be held in memory.</summary>
    private static PaxTarEntry Copy(TarEntry entry, string name)
    {
        // A fresh entry, not a converted one: setting a converted entry's data stream would dispose the reader's.
        var type = entry.EntryType == TarEntryType.V7RegularFile ? TarEntryType.RegularFile : entry.EntryType;
        var copy = new PaxTarEntry(type, name)
        {
            Mode = entry.Mode,
            Uid = entry.Uid,
            Gid = entry.Gid,
            ModificationTime = entry.ModificationTime,
        };
        if (entry is PosixTarEntry posix)
        {
            copy.UserName = posix.UserName;
            copy.GroupName = posix.GroupName;
        }

        if (type is TarEntryType.SymbolicLink or TarEntryType.HardLink)
        {
            copy.LinkName = entry.LinkName;
        }

        if (entry.DataStream is { } data)
        {
            copy.DataStream = data.CanSeek ? data : new KnownLengthStream(data, entry.Length);
        }

        return copy;
    }

    /// <summary>Files, folders and links; not devices, FIFOs, sparse files nor global headers.</summary>
    private static bool IsKept(TarEntryType type) => type is TarEntryType.Directory or TarEntryType.RegularFile or TarEntryType.V7RegularFile
        or TarEntryType.SymbolicLink or TarEntryType.HardLink;

    /// <summary>A name relative to a folder (<c>./a/b</c>, <c>a/b</c>, <c>./</c>) as the snapshot names it
    /// (<c>workspaces/a/b</c>); null for one that climbs out.</summary>
    private static string? Rename(string name, string prefix)
    {
        var relative = name.StartsWith("./", StringComparison.Ordinal) ? name[2..] : name == "." ? string.Empty : name;
        return relative.StartsWith('/') || Climbs(relative) ? null : prefix + relative;
    }

    private static string? Safe(string name, IReadOnlyList<string> prefixes) =>
        !Climbs(name) && prefixes.Any(p => name.StartsWith(p, StringComparison.Ordinal)) ? name : null;

    private static bool Climbs(string name) => name.Split('/').Any(segment => segment == "..");

    /// <summary>A stream read from a pipe that a producer writes on another task: an error there fails the reader's next
    /// read with it (and is kept in <see cref="Fault"/>, since a reader such as an HTTP client may wrap it); disposing the
    /// reader early cancels the producer.</summary>
    public sealed class ProducedStream : Stream
    {
        private readonly Pipe _pipe = new(new PipeOptions(pauseWriterThreshold: 1 << 20, resumeWriterThreshold: 1 << 19));
        private readonly CancellationTokenSource _stop;
        private readonly Stream _reader;
        private Task _producer = Task.CompletedTask;
        private int _disposed;

        private ProducedStream(CancellationToken cancellationToken)
        {
            _stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            _reader = _pipe.Reader.AsStream();
        }

        /// <summary>What failed the producer, once it has.</summary>
        public Exception? Fault { get; private set; }

        internal static ProducedStream Start(Func<Stream, CancellationToken, Task> produce, CancellationToken cancellationToken)
        {
            var stream = new ProducedStream(cancellationToken);
            stream._producer = Task.Run(async () =>
            {
                var writer = stream._pipe.Writer;
                try
                {
                    await using (var output = writer.AsStream(leaveOpen: true))
                    {
                        await produce(output, stream._stop.Token);
                        await output.FlushAsync(stream._stop.Token);
                    }

                    await writer.CompleteAsync();
                }
                catch (Exception e)
                {
                    stream.Fault = e;
                    await writer.CompleteAsync(e);
                }
            }, CancellationToken.None);
            return stream;
        }

        public override bool CanRead => true;

        public override bool CanSeek => false;

        public override bool CanWrite => false;

        public override long Length => throw new NotSupportedException();

        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

        public override int Read(byte[] buffer, int offset, int count) => _reader.Read(buffer, offset, count);

        public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
            _reader.ReadAsync(buffer, offset, count, cancellationToken);

        public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) =>
            _reader.ReadAsync(buffer, cancellationToken);

        public override void Flush()
        {
        }

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        public override async ValueTask DisposeAsync()
        {
            // Disposed by its reader and by its owner, in either order.
            if (Interlocked.Exchange(ref _disposed, 1) == 1)
            {
                return;
            }

            await _stop.CancelAsync();
            await _pipe.Reader.CompleteAsync();
            await _producer;
            _stop.Dispose();
            await base.DisposeAsync();
        }

        protected override void Dispose(bool disposing)
        {
            if (disposing && Interlocked.Exchange(ref _disposed, 1) == 0)
            {
                _stop.Cancel();
                _pipe.Reader.Complete();
                _producer.GetAwaiter().GetResult();
                _stop.Dispose();
            }

            base.Dispose(disposing);
        }
    }
}

/// <summary>A forward-only stream whose length is known: says it can seek so that a <see cref="TarWriter"/> takes its
/// length from it, and refuses any seek that would move it.</summary>
internal sealed class KnownLengthStream(Stream inner, long length) : Stream
{
    private long _position;

    public override bool CanRead => true;

    public override bool CanSeek => true;

    public override bool CanWrite => false;

    public override long Length => length;

    public override long Position
    {
        get => _position;
        set => Seek(value, SeekOrigin.Begin);
    }

    // Never an empty read of the inner stream at the end: some (Docker.DotNet's chunked response) throw on one.
    public override int Read(byte[] buffer, int offset, int count) =>
        _position >= length || count == 0 ? 0 : Count(inner.Read(buffer, offset, (int)Math.Min(count, length - _position)));

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) =>
        _position >= length || buffer.IsEmpty ? 0 : Count(await inner.ReadAsync(buffer[..(int)Math.Min(buffer.Length, length - _position)], cancellationToken));

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    private int Count(int read)
    {
        _position += read;
        return read;
    }

    public override long Seek(long offset, SeekOrigin origin)
    {
        var target = origin switch
        {
            SeekOrigin.Begin => offset,
            SeekOrigin.Current => _position + offset,
            _ => length + offset,
        };
        return target == _position ? _position : throw new NotSupportedException("A snapshot's entry is read forward only.");
    }

    public override void Flush()
    {
    }

    public override void SetLength(long value) => throw new NotSupportedException();

    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
}

/// <summary>A stored snapshot that is not what was stored: its digest differs, or it does not parse.</summary>
public sealed class CorruptSnapshotException(string why) : Exception($"The snapshot is corrupt: {why}.")
{
    public string Why { get; } = why;
}
