using System.Reflection;

namespace CloudDevEnv.Runtime.Docker;

/// <summary>The names of the images and the IDE bundle that <c>scripts/build-images.sh</c> builds locally.
/// Their version lives in one place, <c>images/VERSION</c>, which this assembly embeds at build time.</summary>
public static class WorkspaceImages
{
    private static readonly Lazy<string> LazyVersion = new(ReadVersion);

    /// <summary>The local images' version, e.g. "0.1.0" (the first line of <c>images/VERSION</c>).</summary>
    public static string Version => LazyVersion.Value;

    /// <summary>Debian bookworm from debootstrap, imported with <c>docker import</c>.</summary>
    public static string BaseImage => $"clouddevenv/base:{Version}";

    /// <summary>The fallback workspace image: the base image + the IDE bundle + the user <see cref="WorkspaceUser"/>.</summary>
    public static string WorkspaceImage => $"clouddevenv/workspace:{Version}";

    /// <summary>The docker volume holding the IDE bundle; mounted read-only into every workspace container.</summary>
    public static string IdeBundleVolume => $"clouddevenv-ide-{Version}";

    /// <summary>Where the IDE bundle is inside a workspace container.</summary>
    public const string IdeBundlePath = "/opt/clouddevenv/ide";

    /// <summary>The launcher of code-server inside the bundle (runs on the bundle's own Node).</summary>
    public const string CodeServerPath = IdeBundlePath + "/bin/code-server";

    /// <summary>The non-root user of the fallback workspace image (uid 1000, home /home/vscode, owns /workspaces).
    /// The container runs as root; tools, hooks meant for the user and the IDE run as this user (exec with
    /// <c>User = "vscode"</c>); the image declares it as remoteUser in its <c>devcontainer.metadata</c> label.</summary>
    public const string WorkspaceUser = "vscode";

    /// <summary>The label the IDE bundle volume carries (value: the version).</summary>
    public const string IdeBundleLabel = "dev.clouddevenv.ide-bundle";

    private static string ReadVersion()
    {
        using var stream = typeof(WorkspaceImages).Assembly.GetManifestResourceStream("CloudDevEnv.Images.VERSION")
            ?? throw new InvalidOperationException("The embedded images/VERSION resource is missing from " +
                typeof(WorkspaceImages).Assembly.GetName().Name + ".");
        using var reader = new StreamReader(stream);
        var version = reader.ReadLine()?.Trim();
        if (string.IsNullOrEmpty(version))
        {
            throw new InvalidOperationException("images/VERSION is empty.");
        }

        return version;
    }
}
