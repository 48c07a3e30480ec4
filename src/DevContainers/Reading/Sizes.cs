using System.Globalization;
using System.Text.RegularExpressions;

namespace CloudDevEnv.DevContainers.Reading;

/// <summary>The two size notations devcontainer.json uses.</summary>
internal static partial class Sizes
{
    /// <summary><c>hostRequirements</c> sizes: the reference CLI's /^(\d+)([tgmk]b)?$/ with powers of 1024.
    /// Upper case is accepted here too ("8GB"), where the CLI would quietly read 0.</summary>
    public static long? ParseRequirement(string text)
    {
        var match = RequirementPattern().Match(text);
        if (!match.Success || !long.TryParse(match.Groups[1].Value, NumberStyles.None, CultureInfo.InvariantCulture, out var number))
        {
            return null;
        }
        var shift = match.Groups[2].Success ? Shift(match.Groups[2].Value[0]) : 0;
        return Scale(number, shift);
    }

    /// <summary>Docker's RAMInBytes (<c>--memory</c>, <c>--shm-size</c>): a number, optionally with a
    /// fraction, and b, k, m, g, t or p with optional "i" and "b", powers of 1024.</summary>
    public static long? ParseDocker(string text)
    {
        var match = DockerPattern().Match(text);
        if (!match.Success
            || !decimal.TryParse(match.Groups[1].Value, NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var number))
        {
            return null;
        }
        var shift = match.Groups[2].Success ? Shift(match.Groups[2].Value[0]) : 0;
        try
        {
            return (long)(number * (decimal)Math.Pow(2, shift));
        }
        catch (OverflowException)
        {
            return null;
        }
    }

    private static int Shift(char unit) => char.ToLowerInvariant(unit) switch
    {
        'k' => 10,
        'm' => 20,
        'g' => 30,
        't' => 40,
        'p' => 50,
        _ => 0,
    };

    private static long? Scale(long number, int shift) =>
        shift > 0 && number > long.MaxValue >> shift ? null : number << shift;

    [GeneratedRegex(@"^(\d+)([tgmk]b)?$", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant)]
    private static partial Regex RequirementPattern();

    [GeneratedRegex(@"^(\d+(?:\.\d+)?) ?([kmgtp])?i?b?$", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant)]
    private static partial Regex DockerPattern();
}
