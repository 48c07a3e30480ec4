using System.Text;

namespace CloudDevEnv.Runtime;

/// <summary>The last lines of some output, for failure reasons.</summary>
public sealed class TailBuffer(int lines = TailBuffer.DefaultLines)
{
    public const int DefaultLines = 40;
    private readonly Queue<string> _lines = new();

    public void Add(string line)
    {
        lock (_lines)
        {
            _lines.Enqueue(line);
            while (_lines.Count > lines)
            {
                _lines.Dequeue();
            }
        }
    }

    public override string ToString()
    {
        lock (_lines)
        {
            return string.Join('\n', _lines);
        }
    }
}

/// <summary>Splits a byte stream into lines (UTF-8, across chunk boundaries), sends each line to a sink and
/// to a tail buffer (which several splitters, e.g. stdout and stderr, may share).</summary>
public sealed class OutputLines(IProgress<string>? sink, TailBuffer tail)
{
    private const int MaxLineLength = 16 * 1024;

    private readonly Decoder _decoder = Encoding.UTF8.GetDecoder();
    private readonly StringBuilder _line = new();
    private char[] _chars = new char[4096];

    public void Write(ReadOnlySpan<byte> bytes)
    {
        var needed = _decoder.GetCharCount(bytes, flush: false);
        if (_chars.Length < needed)
        {
            _chars = new char[Math.Max(needed, _chars.Length * 2)];
        }

        var count = _decoder.GetChars(bytes, _chars, flush: false);
        Write(_chars.AsSpan(0, count));
    }

    public void Write(ReadOnlySpan<char> text)
    {
        foreach (var c in text)
        {
            if (c == '\n')
            {
                Emit();
            }
            else
            {
                _line.Append(c);
                if (_line.Length >= MaxLineLength)
                {
                    Emit();
                }
            }
        }
    }

    /// <summary>Adds a whole line (no splitting).</summary>
    public void WriteLine(string line)
    {
        Flush();
        _line.Append(line);
        Emit();
    }

    /// <summary>Emits a last line that had no newline.</summary>
    public void Flush()
    {
        if (_line.Length > 0)
        {
            Emit();
        }
    }

    public string Tail => tail.ToString();

    private void Emit()
    {
        if (_line.Length > 0 && _line[^1] == '\r')
        {
            _line.Length--;
        }

        var line = _line.ToString();
        _line.Clear();
        tail.Add(line);
        sink?.Report(line);
    }
}

/// <summary>An <see cref="IProgress{T}"/> that calls its handler at once, in order, on the reporting thread
/// (<see cref="Progress{T}"/> posts to the thread pool and may reorder).</summary>
public sealed class InlineProgress<T>(Action<T> handler) : IProgress<T>
{
    public void Report(T value) => handler(value);
}
