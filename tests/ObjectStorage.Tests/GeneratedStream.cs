using System.Security.Cryptography;

namespace CloudDevEnv.ObjectStorage.Tests;

/// <summary>A tar stand-in of <paramref name="length"/> pseudo-random bytes, made as it is read (nothing held in memory),
/// read-only and not seekable like the runtime's archive stream. It hashes what it hands out, so a test knows the
/// digest of a gigabyte it never stored; it can fail once <paramref name="failAt"/> bytes were read, and tell
/// <paramref name="onProgress"/> how far the reader got and <paramref name="onEnd"/> that it found the end (on the reader's
/// thread, before the read returns).</summary>
public sealed class GeneratedStream(long length, long? failAt = null, Action<long>? onProgress = null, Func<Exception>? failure = null, Action? onEnd = null) : Stream
{
    private readonly IncrementalHash _hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
    // Unseeded, so the fast generator (xoshiro256**); the digest of what was handed out is what the tests compare.
    private readonly Random _random = new();
    private long _position;
    private string? _sha256;

    public string Sha256 => _sha256 ?? throw new InvalidOperationException("Not read to its end.");

    public long Generated => _position;

    public override bool CanRead => true;

    public override bool CanSeek => false;

    public override bool CanWrite => false;

    public override long Length => throw new NotSupportedException();

    public override long Position { get => _position; set => throw new NotSupportedException(); }

    public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        Task.FromResult(Read(buffer.AsSpan(offset, count)));

    public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        cancellationToken.ThrowIfCancellationRequested();
        return ValueTask.FromResult(Read(buffer.Span));
    }

    public override int Read(Span<byte> buffer)
    {
        if (failAt is { } at && _position >= at)
        {
            throw failure?.Invoke() ?? new IOException($"The archive stream broke after {_position} bytes.");
        }

        // At most 1 MiB per read, as a pipe from the runtime would hand it over.
        var count = (int)Math.Min(Math.Min(buffer.Length, 1024 * 1024), length - _position);
        if (failAt is { } limit)
        {
            count = (int)Math.Min(count, limit - _position);
        }

        if (count <= 0)
        {
            if (_sha256 is null)
            {
                _sha256 = Convert.ToHexStringLower(_hash.GetHashAndReset());
                onEnd?.Invoke();
            }

            return 0;
        }

        var span = buffer[..count];
        _random.NextBytes(span);
        _hash.AppendData(span);
        _position += count;
        onProgress?.Invoke(_position);
        return count;
    }

    public override void Flush()
    {
    }

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _hash.Dispose();
        }

        base.Dispose(disposing);
    }
}
