namespace CloudDevEnv.Runtime.Docker;

/// <summary>Reads through to a stream the caller owns and leaves it open when disposed.</summary>
internal sealed class NonDisposingStream(Stream inner) : ReadOnlyForwardStream(inner, disposeInner: false);

/// <summary>A forward-only, read-only view of a stream: synchronous reads go through the asynchronous ones
/// (Docker.DotNet's response streams support only those), and disposing it disposes the inner stream
/// unless told otherwise.</summary>
internal class ReadOnlyForwardStream(Stream inner, bool disposeInner = true) : Stream
{
    public override bool CanRead => true;
    public override bool CanSeek => false;
    public override bool CanWrite => false;
    public override long Length => throw new NotSupportedException();

    public override long Position
    {
        get => throw new NotSupportedException();
        set => throw new NotSupportedException();
    }

    public override int Read(byte[] buffer, int offset, int count) =>
        inner.ReadAsync(buffer, offset, count, CancellationToken.None).GetAwaiter().GetResult();

    public override int Read(Span<byte> buffer)
    {
        var rented = System.Buffers.ArrayPool<byte>.Shared.Rent(buffer.Length);
        try
        {
            var n = Read(rented, 0, buffer.Length);
            rented.AsSpan(0, n).CopyTo(buffer);
            return n;
        }
        finally
        {
            System.Buffers.ArrayPool<byte>.Shared.Return(rented);
        }
    }

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        inner.ReadAsync(buffer, offset, count, cancellationToken);

    public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) =>
        inner.ReadAsync(buffer, cancellationToken);

    public override void Flush()
    {
    }

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    protected override void Dispose(bool disposing)
    {
        if (disposing && disposeInner)
        {
            inner.Dispose();
        }

        base.Dispose(disposing);
    }

    public override async ValueTask DisposeAsync()
    {
        if (disposeInner)
        {
            await inner.DisposeAsync();
        }

        await base.DisposeAsync();
    }
}
