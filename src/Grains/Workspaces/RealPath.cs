using System.Runtime.InteropServices;

namespace CloudDevEnv.Grains.Workspaces;

/// <summary>realpath(3): the path with every symbolic link, <c>.</c> and <c>..</c> resolved by the kernel, as the clone
/// step will meet it. An allow-list compared on the text of a path lets a symlink under an allowed folder walk out.</summary>
internal static partial class RealPath
{
    /// <returns>The real path, or null when the path does not exist (or is not valid).</returns>
    public static string? Resolve(string path)
    {
        // An embedded NUL would end the C string early and resolve a shorter path than the one checked.
        if (string.IsNullOrEmpty(path) || path.Any(char.IsControl) || !OperatingSystem.IsLinux() && !OperatingSystem.IsMacOS())
        {
            return null;
        }

        var resolved = realpath(path, IntPtr.Zero);
        if (resolved == IntPtr.Zero)
        {
            return null;
        }

        try
        {
            return Marshal.PtrToStringUTF8(resolved);
        }
        finally
        {
            free(resolved);
        }
    }

    [DllImport("libc", SetLastError = true)]
    private static extern IntPtr realpath([MarshalAs(UnmanagedType.LPUTF8Str)] string path, IntPtr resolved);

    [DllImport("libc")]
    private static extern void free(IntPtr pointer);
}
