namespace CloudDevEnv.Grains.Provisioning;

/// <summary>Discards output: for probing commands whose output means nothing to the user.</summary>
internal sealed class NullProgress : IProgress<string>
{
    public static NullProgress Instance { get; } = new();

    public void Report(string value)
    {
    }
}
