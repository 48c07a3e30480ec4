namespace CloudDevEnv.DevContainers.Reading;

/// <summary>Keeps paths taken from a repository inside that repository. A checkout may contain symbolic
/// links, so the check is made on the real path (every link in every segment followed), not on the text.</summary>
internal static class PathGuard
{
    private const int MaxLinkDepth = 40;

    public static bool IsInside(string path, string folder)
    {
        var realPath = RealPath(Path.GetFullPath(path));
        var realFolder = RealPath(Path.GetFullPath(folder)).TrimEnd(Path.DirectorySeparatorChar);
        return realPath == realFolder
            || realPath.StartsWith(realFolder + Path.DirectorySeparatorChar, StringComparison.Ordinal);
    }

    /// <summary>The path with every symbolic link resolved; segments that do not exist are kept as written.</summary>
    public static string RealPath(string fullPath) => RealPath(fullPath, 0);

    private static string RealPath(string fullPath, int depth)
    {
        if (depth > MaxLinkDepth)
        {
            throw new IOException($"Too many levels of symbolic links in '{fullPath}'.");
        }
        var root = Path.GetPathRoot(fullPath) ?? "/";
        var current = root;
        var segments = fullPath[root.Length..].Split(Path.DirectorySeparatorChar, StringSplitOptions.RemoveEmptyEntries);
        foreach (var segment in segments)
        {
            var next = Path.Combine(current, segment);
            var info = new FileInfo(next);
            if (info.LinkTarget is { } target)
            {
                // Resolve relative to the link's folder, then resolve that path's own links.
                next = RealPath(Path.GetFullPath(target, current), depth + 1);
            }
            current = next;
        }
        return current;
    }
}
