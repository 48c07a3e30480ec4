using System.Formats.Tar;
using System.Text;
using System.Text.RegularExpressions;

namespace CloudDevEnv.Runtime.Docker;

/// <summary>Packs a build context folder into a tar stream for the engine's build API, honouring
/// <c>.dockerignore</c> the way the docker CLI does (the Dockerfile and .dockerignore are always sent).</summary>
internal static class BuildContext
{
    /// <summary>Writes the context to a temporary file (deleted on dispose) and returns it positioned at 0.</summary>
    public static async Task<Stream> PackAsync(string contextDirectory, string dockerfile, CancellationToken cancellationToken)
    {
        var root = Path.GetFullPath(contextDirectory);
        var ignore = DockerIgnore.Load(Path.Combine(root, ".dockerignore"));
        var alwaysSent = new HashSet<string>(StringComparer.Ordinal) { ".dockerignore", Normalize(dockerfile) };
        var file = new FileStream(
            Path.Combine(Path.GetTempPath(), $"cde-build-{Guid.NewGuid():N}.tar"),
            FileMode.CreateNew, FileAccess.ReadWrite, FileShare.None, 81920,
            FileOptions.DeleteOnClose | FileOptions.Asynchronous);
        try
        {
            await using (var writer = new TarWriter(file, TarEntryFormat.Pax, leaveOpen: true))
            {
                await AddDirectoryAsync(writer, root, "", ignore, alwaysSent, cancellationToken);
            }

            file.Position = 0;
            return file;
        }
        catch
        {
            await file.DisposeAsync();
            throw;
        }
    }

    private static async Task AddDirectoryAsync(
        TarWriter writer, string root, string relative, DockerIgnore ignore, HashSet<string> alwaysSent, CancellationToken ct)
    {
        var directory = relative.Length == 0 ? root : Path.Combine(root, relative);
        var entries = new DirectoryInfo(directory).EnumerateFileSystemInfos()
            .OrderBy(e => e.Name, StringComparer.Ordinal);
        foreach (var entry in entries)
        {
            ct.ThrowIfCancellationRequested();
            var path = relative.Length == 0 ? entry.Name : relative + "/" + entry.Name;
            var excluded = ignore.IsExcluded(path) && !alwaysSent.Contains(path);
            var isDirectory = entry is DirectoryInfo && entry.LinkTarget is null;
            if (isDirectory)
            {
                if (!excluded)
                {
                    await writer.WriteEntryAsync(entry.FullName, path + "/", ct);
                }

                // An excluded folder is only walked when a later "!pattern" may bring something back.
                if (!excluded || ignore.HasExceptions)
                {
                    await AddDirectoryAsync(writer, root, path, ignore, alwaysSent, ct);
                }
            }
            else if (!excluded)
            {
                await writer.WriteEntryAsync(entry.FullName, path, ct);
            }
        }
    }

    internal static string Normalize(string path)
    {
        var p = path.Replace('\\', '/');
        while (p.StartsWith("./", StringComparison.Ordinal))
        {
            p = p[2..];
        }

        return p.TrimStart('/');
    }
}

/// <summary>The patterns of a <c>.dockerignore</c> file (moby/patternmatcher semantics: <c>*</c>, <c>?</c>,
/// <c>[...]</c>, <c>**</c>, <c>!</c> exceptions, last match wins, a matched folder excludes what is below it).</summary>
/// <remarks>The file is the repository's, so hostile: patterns are matched by .NET's non-backtracking engine, whose
/// time is linear in the path whatever the pattern (a backtracking one spends exponential time on "*a*a*a*…b"), and
/// the file's size and pattern count are bounded.</remarks>
internal sealed class DockerIgnore
{
    public const int MaxFileBytes = 256 * 1024;
    public const int MaxPatterns = 10_000;

    private readonly List<(Regex Pattern, bool Exception)> _patterns = [];

    public bool HasExceptions => _patterns.Any(p => p.Exception);

    public static DockerIgnore Load(string path)
    {
        var ignore = new DockerIgnore();
        var file = new FileInfo(path);
        if (!file.Exists)
        {
            return ignore;
        }

        if (file.Length > MaxFileBytes)
        {
            throw new WorkspaceRuntimeException(
                $".dockerignore is {file.Length} bytes; at most {MaxFileBytes / 1024} KiB is read.", isPermanent: true);
        }

        foreach (var raw in File.ReadAllLines(path))
        {
            ignore.Add(raw);
        }

        return ignore;
    }

    public void Add(string line)
    {
        var text = line.Trim();
        if (text.Length == 0 || text.StartsWith('#'))
        {
            return;
        }

        var exception = text.StartsWith('!');
        if (exception)
        {
            text = text[1..].Trim();
        }

        text = CleanPath(text);
        if (text.Length == 0)
        {
            return;
        }

        if (_patterns.Count >= MaxPatterns)
        {
            throw new WorkspaceRuntimeException($".dockerignore has more than {MaxPatterns} patterns.", isPermanent: true);
        }

        try
        {
            _patterns.Add((new Regex(ToRegex(text), RegexOptions.CultureInvariant | RegexOptions.NonBacktracking), exception));
        }
        catch (ArgumentException)
        {
            throw new WorkspaceRuntimeException($"The .dockerignore pattern '{line.Trim()}' is not valid.", isPermanent: true);
        }
    }

    /// <summary>True when <paramref name="path"/> (relative, '/'-separated) is not to be sent.</summary>
    public bool IsExcluded(string path)
    {
        var excluded = false;
        foreach (var (pattern, exception) in _patterns)
        {
            if (MatchesOrParentMatches(pattern, path))
            {
                excluded = !exception;
            }
        }

        return excluded;
    }

    private static bool MatchesOrParentMatches(Regex pattern, string path)
    {
        if (pattern.IsMatch(path))
        {
            return true;
        }

        var slash = path.IndexOf('/');
        while (slash > 0)
        {
            if (pattern.IsMatch(path[..slash]))
            {
                return true;
            }

            slash = path.IndexOf('/', slash + 1);
        }

        return false;
    }

    private static string CleanPath(string pattern)
    {
        var parts = new List<string>();
        foreach (var part in pattern.Replace('\\', '/').Split('/'))
        {
            if (part.Length == 0 || part == ".")
            {
                continue;
            }

            if (part == ".." && parts.Count > 0 && parts[^1] != "..")
            {
                parts.RemoveAt(parts.Count - 1);
                continue;
            }

            parts.Add(part);
        }

        return string.Join('/', parts);
    }

    private static string ToRegex(string pattern)
    {
        var sb = new StringBuilder("^");
        for (var i = 0; i < pattern.Length; i++)
        {
            var c = pattern[i];
            switch (c)
            {
                case '*' when i + 1 < pattern.Length && pattern[i + 1] == '*':
                    i++;
                    if (i + 1 < pattern.Length && pattern[i + 1] == '/')
                    {
                        i++;
                        sb.Append("(.*/)?");
                    }
                    else
                    {
                        sb.Append(".*");
                    }

                    break;
                case '*':
                    sb.Append("[^/]*");
                    break;
                case '?':
                    sb.Append("[^/]");
                    break;
                case '[':
                    var end = pattern.IndexOf(']', i + 1);
                    if (end < 0)
                    {
                        sb.Append(@"\[");
                        break;
                    }

                    var set = pattern[(i + 1)..end];
                    if (set.StartsWith('!') || set.StartsWith('^'))
                    {
                        set = "^" + set[1..];
                    }

                    sb.Append('[').Append(set.Replace(@"\", @"\\")).Append(']');
                    i = end;
                    break;
                case '\\' when i + 1 < pattern.Length:
                    i++;
                    sb.Append(Regex.Escape(pattern[i].ToString()));
                    break;
                default:
                    sb.Append(Regex.Escape(c.ToString()));
                    break;
            }
        }

        return sb.Append('$').ToString();
    }
}
