using CloudDevEnv.DevContainers.Jsonc;

namespace CloudDevEnv.DevContainers.Reading;

/// <summary>Where the readers send a setting outside the policy: refused at once under a strict policy (the message
/// names it, file position included), else noted and left out, the reader going on without it.</summary>
internal sealed class PolicyNotes(DevContainerPolicy policy)
{
    private readonly List<LeftOutSetting> _leftOut = [];

    public DevContainerPolicy Policy => policy;

    public IReadOnlyList<LeftOutSetting> All => [.. _leftOut];

    /// <param name="setting">As the message shows it: <c>runArgs: '--privileged'</c>.</param>
    /// <exception cref="ConfigValueException">Under a strict policy.</exception>
    public void LeaveOut(JsoncNode node, string setting, string why)
    {
        if (policy.RefuseWhatIsLeftOut)
        {
            throw Values.Fail(node, $"{setting} {why}");
        }

        // The message's verb ("is not allowed: ...", "is not supported by CloudDevEnv") becomes the reason.
        var reason = why.StartsWith("is not allowed: ", StringComparison.Ordinal) ? why["is not allowed: ".Length..]
            : why.StartsWith("is ", StringComparison.Ordinal) ? why[3..]
            : why;
        _leftOut.Add(new LeftOutSetting(setting, reason));
    }
}
