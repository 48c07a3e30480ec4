// Writes grain states through FileGrainStorage as fast as it can, several grains at once, and prints
// "<grain> <version>" on stdout after each write is acknowledged, until it is killed. CrashTests kills it
// with SIGKILL mid-loop and checks that every acknowledged version is on disk and no file is torn.
// With a third argument it stops after that many versions per grain (DurabilityOrderTests traces such a run).
// Usage: dotnet CloudDevEnv.LocalStorage.CrashWriter.dll <directory> <grain count> [versions]
using System.Globalization;
using CloudDevEnv.LocalStorage;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Orleans.Serialization;
using Orleans.Storage;

var directory = args[0];
var grainCount = int.Parse(args[1], CultureInfo.InvariantCulture);
var versions = args.Length > 2 ? int.Parse(args[2], CultureInfo.InvariantCulture) : int.MaxValue;

var serializer = new JsonGrainStorageSerializer(new OrleansJsonSerializer(Options.Create(new OrleansJsonSerializerOptions())));
var storage = new FileGrainStorage(
    "crash",
    new FileStorageOptions { Directory = directory, GrainStorageSerializer = serializer },
    NullLogger<FileGrainStorage>.Instance);

var stdout = Console.Out;
await Task.WhenAll(Enumerable.Range(0, grainCount).Select(grain => Task.Run(async () =>
{
    var grainId = GrainId.Create("crash", $"writer/{grain}");
    var state = new GrainState<CrashState>(new CrashState());
    for (var version = 1; version <= versions; version++)
    {
        state.State = CrashState.For(version);
        await storage.WriteStateAsync("crash", grainId, state);
        stdout.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{grain} {version}"));
    }
})));

/// <summary>A state whose size changes with every version, so that a torn file cannot pass for a whole one.</summary>
public sealed class CrashState
{
    public int Version { get; set; }

    public string Filler { get; set; } = "";

    public static CrashState For(int version) => new() { Version = version, Filler = new string('x', FillerLength(version)) };

    public static int FillerLength(int version) => 1000 + version * 37 % 4000;
}
