using System.Runtime.InteropServices;

namespace CloudDevEnv.LocalStorage;

/// <summary>fsync of a folder, which makes a rename or a delete in it durable. .NET has no API for it
/// (a FileStream refuses to open a folder), so this calls libc.</summary>
internal static partial class DirectorySync
{
    private const int ReadOnly = 0;
    private const int LinuxCloseOnExec = 0x80000;
    private const int MacCloseOnExec = 0x1000000;
    private const int Interrupted = 4;
    private const int InvalidArgument = 22;

    public static void Flush(string directory)
    {
        // NTFS journals renames itself and a folder handle cannot be flushed without backup privileges.
        if (OperatingSystem.IsWindows())
        {
            return;
        }

        // Close-on-exec so that a process started meanwhile (docker, git) does not inherit the handle.
        var flags = ReadOnly | (OperatingSystem.IsMacOS() ? MacCloseOnExec : OperatingSystem.IsLinux() ? LinuxCloseOnExec : 0);
        var fd = Open(directory, flags);
        if (fd < 0)
        {
            throw Failure("open", directory);
        }

        try
        {
            int result;
            do
            {
                result = Fsync(fd);
            }
            while (result != 0 && Marshal.GetLastPInvokeError() == Interrupted);

            // Some file systems (a few FUSE and network mounts) cannot sync a folder at all: nothing more can be done there.
            if (result != 0 && Marshal.GetLastPInvokeError() != InvalidArgument)
            {
                throw Failure("fsync", directory);
            }
        }
        finally
        {
            _ = Close(fd);
        }
    }

    private static IOException Failure(string call, string directory)
    {
        var errno = Marshal.GetLastPInvokeError();
        return new IOException($"{call} of folder '{directory}' failed: {Marshal.GetPInvokeErrorMessage(errno)} (errno {errno}).", errno);
    }

    [LibraryImport("libc", EntryPoint = "open", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int Open(string path, int flags);

    [LibraryImport("libc", EntryPoint = "fsync", SetLastError = true)]
    private static partial int Fsync(int fd);

    [LibraryImport("libc", EntryPoint = "close", SetLastError = true)]
    private static partial int Close(int fd);
}
