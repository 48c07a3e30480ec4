namespace CloudDevEnv.Grains.Provisioning;

/// <summary>A step's output that can also say something asked for was not done, as a warning event rather than a log
/// line (the workspace goes on without it).</summary>
public interface IWarningProgress : IProgress<string>
{
    void Warn(string message);
}

public static class WarningProgressExtensions
{
    /// <summary>A warning event where the output takes them, else a log line that says it is one.</summary>
    public static void Warn(this IProgress<string> log, string message)
    {
        ArgumentNullException.ThrowIfNull(log);
        if (log is IWarningProgress warnings)
        {
            warnings.Warn(message);
        }
        else
        {
            log.Report("Warning: " + message);
        }
    }
}
