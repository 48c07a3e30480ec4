using System.Security.Cryptography;
using System.Text.RegularExpressions;

namespace CloudDevEnv.Contracts.Workspaces;

/// <summary>Workspace ids are DNS labels, so that <c>&lt;id&gt;.&lt;domain&gt;</c> is a valid host name:
/// readable words for people, then random characters so that an id cannot be guessed.</summary>
public static partial class WorkspaceId
{
    public const int MaxLength = 63;

    // 10 characters of a 32-letter alphabet: 50 random bits.
    private const int RandomLength = 10;
    private const string RandomAlphabet = "abcdefghijkmnpqrstuvwxyz23456789";

    private static readonly string[] Adjectives =
    [
        "amber", "bold", "brave", "bright", "calm", "clever", "cosmic", "crisp", "eager", "fancy",
        "gentle", "glad", "golden", "happy", "jolly", "keen", "lively", "lucky", "merry", "mighty",
        "nimble", "noble", "proud", "quick", "quiet", "rapid", "shiny", "silent", "sunny", "swift",
        "tidy", "vivid", "warm", "wise", "witty", "zesty",
    ];

    private static readonly string[] Animals =
    [
        "badger", "beaver", "bison", "crane", "dingo", "eagle", "falcon", "ferret", "gecko", "heron",
        "ibex", "jackal", "koala", "lemur", "lynx", "marten", "moose", "newt", "ocelot", "otter",
        "panda", "puffin", "quail", "raven", "robin", "salmon", "seal", "stoat", "tapir", "tiger",
        "walrus", "wombat", "yak", "zebra",
    ];

    public static string NewId()
    {
        Span<char> random = stackalloc char[RandomLength];
        for (var i = 0; i < random.Length; i++)
        {
            random[i] = RandomAlphabet[RandomNumberGenerator.GetInt32(RandomAlphabet.Length)];
        }

        var adjective = Adjectives[RandomNumberGenerator.GetInt32(Adjectives.Length)];
        var animal = Animals[RandomNumberGenerator.GetInt32(Animals.Length)];
        return $"{adjective}-{animal}-{random}";
    }

    /// <summary>True for a DNS label: lower-case letters, digits and '-', not at either end, 1 to 63 characters.</summary>
    public static bool IsValid(string? id) => id is { Length: > 0 and <= MaxLength } && DnsLabel().IsMatch(id);

    [GeneratedRegex("^[a-z0-9]([a-z0-9-]*[a-z0-9])?$", RegexOptions.CultureInvariant)]
    private static partial Regex DnsLabel();
}
