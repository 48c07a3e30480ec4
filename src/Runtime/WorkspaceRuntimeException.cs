namespace CloudDevEnv.Runtime;

/// <summary>A runtime operation failed. Permanent failures (a bad image, a Dockerfile that does not build)
/// fail the workspace at once; others are retried with backoff.</summary>
public sealed class WorkspaceRuntimeException(string message, bool isPermanent, Exception? inner = null)
    : Exception(message, inner)
{
    public bool IsPermanent { get; } = isPermanent;
}
