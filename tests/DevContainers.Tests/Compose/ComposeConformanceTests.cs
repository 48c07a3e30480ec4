using System.Diagnostics;
using System.Text.Json.Nodes;
using CloudDevEnv.DevContainers.Compose;
using Xunit;

namespace CloudDevEnv.DevContainers.Tests.Compose;

/// <summary>CloudDevEnv reads compose files with its own code (so that the platform's environment and the host's
/// files stay out of it, see ComposeProject); this holds that reading to a real Compose implementation: Debian's
/// docker-compose (installed by scripts/install-test-packages.sh) normalizes the same files with `config`, and each
/// service's image, build, command, entrypoint, environment, volume targets, dependencies, healthcheck and restart
/// policy must agree.</summary>
public sealed class ComposeConformanceTests
{
    private const string Compose = "/usr/bin/docker-compose";

    public static TheoryData<string> Templates => new() { nameof(ComposeTemplates.AppAndDatabase), nameof(ComposeTemplates.ExistingComposeExtended) };

    [Theory]
    [MemberData(nameof(Templates))]
    public async Task Each_service_reads_as_docker_compose_config_normalizes_it(string template)
    {
        Assert.True(File.Exists(Compose), $"{Compose} is missing: run scripts/install-test-packages.sh (Debian's docker-compose).");
        using var repo = new TestRepository();
        typeof(ComposeTemplates).GetMethod(template)!.Invoke(null, [repo]);
        var config = repo.Load();
        var ours = ComposeProject.Load(config.Compose!, repo.Folder, DevContainerPolicy.Lenient);

        var reference = await ConfigAsync(config.Compose!);
        var services = (JsonObject)reference["services"]!;
        Assert.Equal(services.Select(s => s.Key).Order(StringComparer.Ordinal), ours.Services.Keys.Order(StringComparer.Ordinal));
        foreach (var (name, node) in services)
        {
            var theirs = (JsonObject)node!;
            var mine = ours.Services[name];
            Assert.Equal(theirs["image"]?.ToString(), mine.Image);
            Assert.Equal(theirs["restart"]?.ToString(), mine.Restart);
            Assert.Equal(Words(theirs["command"]), mine.Command);
            Assert.Equal(Words(theirs["entrypoint"]), mine.Entrypoint);
            var environment = ((theirs["environment"] as JsonObject) ?? [])
                .Where(e => e.Value is not null)
                .ToDictionary(e => e.Key, e => e.Value!.ToString(), StringComparer.Ordinal);
            Assert.Equal(environment.OrderBy(e => e.Key, StringComparer.Ordinal), mine.Environment.OrderBy(e => e.Key, StringComparer.Ordinal));
            Assert.Equal(
                ((theirs["volumes"] as JsonArray) ?? []).Select(v => v!.ToString().Split(':')[1]).Order(StringComparer.Ordinal),
                mine.Mounts.Select(m => m.Target).Order(StringComparer.Ordinal));
            Assert.Equal(
                ((theirs["depends_on"] as JsonObject)?.Select(d => d.Key) ?? ((theirs["depends_on"] as JsonArray) ?? []).Select(d => d!.ToString())).Order(StringComparer.Ordinal),
                mine.DependsOn.Select(d => d.Service).Order(StringComparer.Ordinal));
            if (theirs["build"] is JsonObject build)
            {
                Assert.Equal(build["context"]!.ToString(), mine.Build!.ContextPath);
                Assert.Equal(build["dockerfile"]?.ToString() ?? "Dockerfile", mine.Build.DockerfileInContext);
            }
            else
            {
                Assert.Null(mine.Build);
            }

            Assert.Equal(Words(theirs["healthcheck"]?["test"]), mine.Healthcheck?.Test);
        }
    }

    private static List<string>? Words(JsonNode? node) => node switch
    {
        null => null,
        JsonArray list => [.. list.Select(i => i!.ToString())],
        // Compose keeps a string command as written; the engine's CLI splits it into words as a shell would.
        _ => ShellSplit(node.ToString()),
    };

    private static List<string> ShellSplit(string text)
    {
        using var repo = new TestRepository();
        repo.With(".devcontainer/devcontainer.json", """{ "dockerComposeFile": "c.yml", "service": "s" }""")
            .With(".devcontainer/c.yml", "services:\n  s:\n    image: x\n    command: " + System.Text.Json.JsonSerializer.Serialize(text) + "\n");
        return [.. ComposeProject.Load(repo.Load().Compose!, repo.Folder, DevContainerPolicy.Lenient).Services["s"].Command!];
    }

    /// <summary>`docker-compose config` with nothing of this process's environment: what the files say, and their .env.</summary>
    private static async Task<JsonObject> ConfigAsync(DevContainerCompose compose)
    {
        var start = new ProcessStartInfo(Compose)
        {
            WorkingDirectory = Path.GetDirectoryName(compose.Files[0])!,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        start.Environment.Clear();
        start.Environment["PATH"] = "/usr/bin:/bin";
        foreach (var file in compose.Files)
        {
            start.ArgumentList.Add("-f");
            start.ArgumentList.Add(file);
        }

        start.ArgumentList.Add("config");
        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var errors = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(1));
        await process.WaitForExitAsync(timeout.Token);
        Assert.True(process.ExitCode == 0, $"docker-compose config failed: {await errors}");
        return ComposeYaml.Parse(await output, "docker-compose config");
    }
}
