namespace CloudDevEnv.Cli;

/// <summary>A command line as cde reads it: the command, its arguments, <c>--name value</c> options and flags.
/// Unknown options are an error, so that a typo never silently does something else.</summary>
public sealed class CommandLine
{
    private static readonly HashSet<string> ValueOptions = ["url", "token", "ref", "image", "idle-timeout", "machine", "devcontainer-path", "env", "secret"];
    private static readonly HashSet<string> FlagOptions = ["json", "open", "f", "follow", "help", "public", "private"];

    private readonly Dictionary<string, List<string>> _values = new(StringComparer.Ordinal);
    private readonly List<string> _arguments = [];

    public string? Name { get; private set; }

    public HashSet<string> Flags { get; } = new(StringComparer.Ordinal);

    public static CommandLine Parse(IReadOnlyList<string> args)
    {
        var line = new CommandLine();
        for (var i = 0; i < args.Count; i++)
        {
            var arg = args[i];
            if (arg == "--")
            {
                line._arguments.AddRange(args.Skip(i + 1));
                break;
            }

            if (arg.StartsWith('-') && arg.Length > 1)
            {
                var name = arg.TrimStart('-');
                var inline = name.IndexOf('=', StringComparison.Ordinal);
                var value = inline >= 0 ? name[(inline + 1)..] : null;
                name = inline >= 0 ? name[..inline] : name;
                if (name is "h")
                {
                    name = "help";
                }

                if (ValueOptions.Contains(name))
                {
                    value ??= i + 1 < args.Count ? args[++i] : throw new CliException(ExitCodes.Usage, $"--{name} needs a value.");
                    (line._values.TryGetValue(name, out var given) ? given : line._values[name] = []).Add(value);
                }
                else if (FlagOptions.Contains(name) && value is null)
                {
                    line.Flags.Add(name == "follow" ? "f" : name);
                }
                else
                {
                    throw new CliException(ExitCodes.Usage, $"Unknown option '{arg}'; `cde help` lists the options.");
                }

                continue;
            }

            if (line.Name is null)
            {
                line.Name = arg;
            }
            else
            {
                line._arguments.Add(arg);
            }
        }

        return line;
    }

    /// <summary>The option's value; given twice, the last one.</summary>
    public string? Value(string name) => _values.GetValueOrDefault(name)?[^1];

    /// <summary>Every value of an option that may be repeated (<c>--env A=1 --env B=2</c>).</summary>
    public IReadOnlyList<string> Values(string name) => _values.GetValueOrDefault(name) ?? [];

    public string Required(string name) =>
        Value(name) ?? throw new CliException(ExitCodes.Usage, $"cde {Name} needs --{name}.");

    public string Argument(int index, string what) =>
        index < _arguments.Count ? _arguments[index] : throw new CliException(ExitCodes.Usage, $"cde {Name} needs the {what}.");
}
