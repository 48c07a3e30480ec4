using System.Text.Json;
using Docker.DotNet.Models;

namespace CloudDevEnv.Workspaces.Docker.Tests;

/// <summary>devcontainer features on real parts: published by the reference CLI to a real OCI registry on loopback,
/// installed by the platform into a derived image on the real engine, and compared with what <c>devcontainer up</c>
/// makes of the same configuration.</summary>
[Collection(FeaturesClusterCollection.Name)]
public sealed class FeatureTests(FeaturesClusterFixture fixture)
{
    private readonly WorkspaceProbe _probe = new(fixture);

    private string Config(string features, string extra = "") => $$"""
        {
          "image": "{{WorkspaceImages.BaseImage}}",
          "features": { {{features}} },
          {{extra}}
          "postCreateCommand": "echo config-hook >> /tmp/cde-feature-hooks"
        }
        """;

    private async Task<(IWorkspaceGrain Grain, string Id, WorkspaceStatus Status)> LaunchAsync(TestRepository repository, string name, WorkspacePhase until = WorkspacePhase.Running)
    {
        var id = fixture.NewId(name);
        var grain = fixture.Client.GetGrain<IWorkspaceGrain>(id);
        await grain.CreateAsync(new WorkspaceSpec(repository.Url, null, "wdt-owner", null, null, null));
        var status = await _probe.PhaseAsync(grain, until, seconds: 240);
        return (grain, id, status);
    }

    private async Task DeleteAsync(IWorkspaceGrain grain)
    {
        await grain.DeleteAsync("wdt-owner");
        await _probe.PhaseAsync(grain, WorkspacePhase.Deleted);
    }

    [Fact]
    public async Task Registry_and_local_features_install_in_order_with_their_options_like_the_reference_cli_and_once()
    {
        var repository = fixture.NewRepository("features");
        repository.Write(".devcontainer/devcontainer.json", Config($$"""
                "./aaa-local": {},
                "{{fixture.Namespace}}/hello:1": { "greeting": "hi" }
                """))
            .Write(".devcontainer/aaa-local/devcontainer-feature.json", $$"""{ "id": "aaa-local", "version": "0.1.0", "installsAfter": ["{{fixture.Namespace}}/hello"] }""")
            .Write(".devcontainer/aaa-local/install.sh", "#!/bin/sh\necho aaa-local >> /usr/local/share/feature-order\n")
            .Commit("main");

        var (grain, id, running) = await LaunchAsync(repository, "features");
        Assert.Contains(running.Image!.Notes, n => n.StartsWith("features installed, in order: ", StringComparison.Ordinal));
        Assert.StartsWith("clouddevenv/build/", running.Image.Image);
        fixture.OwnImage(running.Image.Image);

        // dependsOn first, installsAfter after, the options and the users in each install.sh's environment.
        var platform = await ObservedAsync(command => _probe.ShAsync(id, command));
        Assert.Equal("zeta-tools\nhello\naaa-local", platform.Order);
        Assert.Equal("greeting=hi loud=false user=root home=/root", platform.Hello);
        Assert.Equal("installed", platform.Env);
        Assert.StartsWith("/opt/hello/bin:", platform.Path);
        Assert.Equal("feature-hook\nconfig-hook", await _probe.ShAsync(id, "cat /tmp/cde-feature-hooks"));
        var label = (await fixture.Engine.Images.InspectImageAsync(running.Image.Image)).Config!.Labels!["devcontainer.metadata"];
        var ids = JsonDocument.Parse(label).RootElement.EnumerateArray().Select(e => e.TryGetProperty("id", out var v) ? v.GetString() : null).OfType<string>().ToList();
        Assert.Equal([$"{fixture.Namespace}/zeta-tools:1", $"{fixture.Namespace}/hello:1", "./aaa-local"], ids);

        // The reference CLI on the same configuration and registry makes the same container.
        var cli = await FeaturesClusterFixture.RunAsync(FeaturesClusterFixture.Cli, "up", "--workspace-folder", repository.Path, "--remove-existing-container");
        try
        {
            Assert.True(cli.Exit == 0, cli.Output);
            var result = cli.Output.Split('\n').Last(l => l.StartsWith("{\"outcome\"", StringComparison.Ordinal));
            var container = JsonDocument.Parse(result).RootElement.GetProperty("containerId").GetString()!;
            var reference = await ObservedAsync(async command =>
                (await FeaturesClusterFixture.RunAsync("docker", "exec", container, "/bin/sh", "-c", command)).Output.Trim());
            Assert.Equal(reference, platform);
            var cliImage = (await fixture.Engine.Containers.InspectContainerAsync(container)).Config!.Image;
            var cliLabel = (await fixture.Engine.Images.InspectImageAsync(cliImage)).Config!.Labels!["devcontainer.metadata"];
            Assert.All(["hello:1", "aaa-local"], part => Assert.Contains(part, cliLabel, StringComparison.Ordinal));
        }
        finally
        {
            // The reference CLI's container, its image (vsc-<folder>-<hash>-features) and its scratch image go too.
            foreach (var leftover in (await FeaturesClusterFixture.RunAsync("docker", "ps", "-aq", "--filter", $"label=devcontainer.local_folder={repository.Path}")).Output.Split('\n', StringSplitOptions.RemoveEmptyEntries))
            {
                var image = (await FeaturesClusterFixture.RunAsync("docker", "inspect", "--format", "{{.Config.Image}}", leftover.Trim())).Output.Trim();
                await FeaturesClusterFixture.RunAsync("docker", "rm", "-f", leftover.Trim());
                if (image.StartsWith("vsc-", StringComparison.Ordinal))
                {
                    await FeaturesClusterFixture.RunAsync("docker", "rmi", "-f", image);
                }
            }

            await FeaturesClusterFixture.RunAsync("docker", "rmi", "-f", "dev_container_feature_content_temp");
        }

        // A second launch of the same configuration builds nothing: the derived image is found by its content's key.
        var (again, _, second) = await LaunchAsync(repository, "features-again");
        Assert.Equal(running.Image.Image, second.Image!.Image);
        Assert.Contains(second.RecentEvents, e => e.Message.Contains($"Image {running.Image.Image} is present locally", StringComparison.Ordinal));
        Assert.DoesNotContain(second.RecentEvents, e => e.Message.Contains("Installing the feature ", StringComparison.Ordinal) && e.Message.Contains("_hello", StringComparison.Ordinal));

        await DeleteAsync(grain);
        await DeleteAsync(again);
    }

    [Fact]
    public async Task The_official_registry_is_served_by_the_operators_mirror()
    {
        var repository = fixture.NewRepository("mirror");
        repository.Write(".devcontainer/devcontainer.json", Config("\"ghcr.io/devcontainers-mirror/features/hello:1\": {}")).Commit("main");
        var (grain, id, running) = await LaunchAsync(repository, "mirror");
        fixture.OwnImage(running.Image!.Image);
        Assert.Equal("greeting=hey loud=false user=root home=/root", await _probe.ShAsync(id, "cat /usr/local/share/hello-feature"));
        await DeleteAsync(grain);
    }

    [Fact]
    public async Task A_feature_that_cannot_be_fetched_fails_the_launch_naming_it_and_the_answer()
    {
        var missing = fixture.NewRepository("missing-feature");
        missing.Write(".devcontainer/devcontainer.json", Config($"\"{fixture.Namespace}/nowhere:1\": {{}}")).Commit("main");
        var (first, _, failed) = await LaunchAsync(missing, "missing-feature", WorkspacePhase.Failed);
        Assert.Contains($"The feature {fixture.Namespace}/nowhere:1 cannot be fetched: http://localhost:{fixture.RegistryPort} answered 404 Not Found", failed.Reason, StringComparison.Ordinal);
        Assert.Contains("MANIFEST_UNKNOWN", failed.Reason, StringComparison.Ordinal);

        var foreign = fixture.NewRepository("foreign-feature");
        foreign.Write(".devcontainer/devcontainer.json", Config("\"registry.example.com/team/features/tool:1\": {}")).Commit("main");
        var (second, _, refused) = await LaunchAsync(foreign, "foreign-feature", WorkspacePhase.Failed);
        Assert.Contains("the registry registry.example.com is not among those this platform fetches features from", refused.Reason, StringComparison.Ordinal);

        await DeleteAsync(first);
        await DeleteAsync(second);
    }

    private sealed record Observed(string Order, string Hello, string Env, string Path);

    private static async Task<Observed> ObservedAsync(Func<string, Task<string>> sh) => new(
        await sh("cat /usr/local/share/feature-order"),
        await sh("cat /usr/local/share/hello-feature"),
        await sh("printenv HELLO_FEATURE"),
        await sh("printenv PATH"));
}
