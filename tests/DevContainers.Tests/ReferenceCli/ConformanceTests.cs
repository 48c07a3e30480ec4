using Xunit;
using Xunit.Abstractions;

namespace CloudDevEnv.DevContainers.Tests.ReferenceCli;

/// <summary>For each repository under Conformance/, the reference CLI's <c>read-configuration</c> and our
/// loader must agree on every field the model holds. Both run with the same, fixed environment.</summary>
public sealed class ConformanceTests(ITestOutputHelper output)
{
    private const int MinimumCases = 12;

    public static TheoryData<string> Cases()
    {
        var data = new TheoryData<string>();
        foreach (var name in ConformanceCase.Names())
        {
            data.Add(name);
        }
        return data;
    }

    [Fact]
    public void The_reference_cli_is_installed_and_there_are_enough_cases()
    {
        DevContainerCli.RequireInstalled();
        Assert.True(ConformanceCase.Names().Count >= MinimumCases,
            $"Expected at least {MinimumCases} cases in {ConformanceCase.CasesFolder}, found {ConformanceCase.Names().Count}.");
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Loader_agrees_with_the_reference_cli(string caseName)
    {
        var nodeFolder = DevContainerCli.RequireInstalled();
        var conformanceCase = ConformanceCase.Load(caseName);
        var scratch = Path.Combine(Path.GetTempPath(), "cde-conformance-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(scratch);
        try
        {
            var repository = conformanceCase.CopyTo(scratch);
            var settings = conformanceCase.Settings;

            // Deterministic: nothing of the test runner's environment leaks into ${localEnv:...}.
            var environment = new Dictionary<string, string>(StringComparer.Ordinal)
            {
                ["PATH"] = DevContainerCli.CliSearchPath(nodeFolder),
                ["HOME"] = scratch,
                ["LANG"] = "C.UTF-8",
            };
            foreach (var (name, value) in settings.LocalEnv ?? [])
            {
                environment[name] = value;
            }
            if (settings.ContainerEnv is not null)
            {
                environment[DevContainerCli.FakeInspectVariable] = DevContainerCli.FakeInspectPath(scratch);
            }

            var ours = DevContainerConfigLoader.Load(repository, new LocalContext(environment), settings.ConfigName);
            Assert.NotNull(ours);
            if (settings.ExpectedName is not null)
            {
                Assert.Equal(settings.ExpectedName, ours.Location.Name);
            }
            if (settings.ExpectedPlacement is { } placement)
            {
                Assert.Equal(placement, ours.Location.Placement);
            }
            if (settings.ContainerEnv is not null)
            {
                ours = ours.WithContainerEnvironment(settings.ContainerEnv);
            }

            var explicitConfig = ours.Location.Placement == DevContainerConfigPlacement.NamedFolder ? ours.Location.ConfigFilePath : null;
            var cli = DevContainerCli.ReadConfiguration(repository, ours.Location.ConfigFilePath, explicitConfig,
                environment, settings.ContainerEnv, scratch);

            var comparison = ConfigurationComparer.Compare(cli, ours);
            output.WriteLine($"{caseName}: compared {comparison.Compared.Count} fields: {string.Join(", ", comparison.Compared)}");
            output.WriteLine("CLI configuration: " + cli.Configuration.GetRawText());
            Assert.True(comparison.Differences.Count == 0,
                $"{caseName}: our model differs from the reference CLI:\n  " + string.Join("\n  ", comparison.Differences));
        }
        finally
        {
            Directory.Delete(scratch, recursive: true);
        }
    }
}
