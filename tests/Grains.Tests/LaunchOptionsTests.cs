using System.Security.Cryptography;
using CloudDevEnv.Grains.Secrets;

namespace CloudDevEnv.Grains.Tests;

/// <summary>What a launch may ask for besides the repository: which devcontainer.json, environment variables and
/// secrets, and where each of them ends up (and does not).</summary>
[Collection(ClusterCollection.Name)]
public sealed class LaunchOptionsTests(ClusterFixture fixture)
{
    private IWorkspaceGrain NewGrain() => fixture.Client.GetGrain<IWorkspaceGrain>(WorkspaceId.NewId());

    private static string NewRepoUrl() => $"https://github.com/octo/r{Guid.NewGuid():N}.git";

    private void TwoConfigurations(string url) => fixture.Runtime.RepositoryFiles[url] = new Dictionary<string, string>
    {
        [".devcontainer/devcontainer.json"] = """{ "image": "example.org/default:1" }""",
        [".devcontainer/python/devcontainer.json"] = """{ "image": "example.org/python:3", "postCreateCommand": "echo py" }""",
    };

    [Fact]
    public async Task A_devcontainer_path_picks_that_configuration_over_the_one_found_first()
    {
        var url = NewRepoUrl();
        TwoConfigurations(url);
        var grain = NewGrain();
        await grain.CreateAsync(Specs.New(repoUrl: url) with { DevContainerPath = ".devcontainer/python/devcontainer.json" });
        var running = await Eventually.PhaseAsync(grain, WorkspacePhase.Running);
        Assert.Equal("example.org/python:3", running.Image!.Image);

        // Without it, the search's first.
        var other = NewGrain();
        await other.CreateAsync(Specs.New(repoUrl: url));
        Assert.Equal("example.org/default:1", (await Eventually.PhaseAsync(other, WorkspacePhase.Running)).Image!.Image);
    }

    [Fact]
    public async Task A_devcontainer_path_the_repository_lacks_fails_the_launch_naming_it_and_the_ones_it_has()
    {
        var url = NewRepoUrl();
        TwoConfigurations(url);
        var grain = NewGrain();
        await grain.CreateAsync(Specs.New(repoUrl: url) with { DevContainerPath = ".devcontainer/rust/devcontainer.json" });
        var failed = await Eventually.PhaseAsync(grain, WorkspacePhase.Failed);
        Assert.Contains("devcontainerPath .devcontainer/rust/devcontainer.json", failed.Reason, StringComparison.Ordinal);
        Assert.Contains("available: python", failed.Reason, StringComparison.Ordinal);
        Assert.False(fixture.Runtime.Exists(grain.GetPrimaryKeyString()));

        var root = NewGrain();
        await root.CreateAsync(Specs.New(repoUrl: url) with { DevContainerPath = ".devcontainer.json" });
        Assert.Contains("the repository has no such file", (await Eventually.PhaseAsync(root, WorkspacePhase.Failed)).Reason, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("../devcontainer.json")]
    [InlineData(".devcontainer/../../etc/devcontainer.json")]
    [InlineData(".devcontainer/a/b/devcontainer.json")]
    [InlineData("/.devcontainer/devcontainer.json")]
    [InlineData("Dockerfile")]
    public async Task A_devcontainer_path_outside_the_specs_places_is_refused_at_once(string path)
    {
        var grain = NewGrain();
        var refused = await Assert.ThrowsAsync<WorkspaceRejectedException>(() => grain.CreateAsync(Specs.New() with { DevContainerPath = path }));
        Assert.Equal(("devcontainerPath", WorkspaceRejection.Invalid), (refused.Field, refused.Kind));
        await Assert.ThrowsAsync<WorkspaceRejectedException>(() => grain.GetStatusAsync());
    }

    [Fact]
    public async Task Variables_and_secrets_reach_the_hooks_and_the_ide_but_not_the_containers_configuration_nor_the_status()
    {
        var url = NewRepoUrl();
        TwoConfigurations(url);
        var grain = NewGrain();
        var id = grain.GetPrimaryKeyString();
        var secret = "s3cr3t-" + Guid.NewGuid().ToString("N");
        var status = await grain.CreateAsync(
            Specs.New(repoUrl: url) with
            {
                DevContainerPath = ".devcontainer/python/devcontainer.json",
                Environment = new Dictionary<string, string> { ["GREETING"] = "hello" },
            },
            new Dictionary<string, string> { ["NPM_TOKEN"] = secret });
        Assert.Equal(["NPM_TOKEN"], status.Spec.SecretNames);
        await Eventually.HooksDoneAsync(grain);

        var hook = Assert.Single(fixture.Runtime.Execs(id), e => e.Command.Contains("echo py"));
        Assert.Equal(("hello", secret), (hook.Environment!["GREETING"], hook.Environment["NPM_TOKEN"]));
        var ide = Assert.Single(fixture.Runtime.Execs(id), e => e.Detached);
        Assert.Equal(("hello", secret), (ide.Environment!["GREETING"], ide.Environment["NPM_TOKEN"]));

        var container = Assert.Single(fixture.Runtime.Created, s => s.WorkspaceId == id);
        Assert.DoesNotContain(container.Environment.Values, v => v.Contains(secret, StringComparison.Ordinal));
        var shown = System.Text.Json.JsonSerializer.Serialize(await grain.GetStatusAsync());
        Assert.DoesNotContain(secret, shown, StringComparison.Ordinal);
        Assert.Contains("NPM_TOKEN", shown, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("environment", "1ABC", "x")]
    [InlineData("environment", "CDE_WORKSPACE_ID", "x")]
    [InlineData("secrets", "cde_token", "x")]
    [InlineData("secrets", "HAS SPACE", "x")]
    [InlineData("secrets", "NUL", "a\0b")]
    [InlineData("secrets", "GREETING", "x")]
    public async Task A_badly_named_or_doubled_variable_is_refused_naming_the_field(string field, string name, string value)
    {
        var grain = NewGrain();
        var spec = Specs.New() with { Environment = new Dictionary<string, string> { ["GREETING"] = "hi" } };
        Dictionary<string, string> given = new() { [name] = value };
        var refused = await Assert.ThrowsAsync<WorkspaceRejectedException>(() => field == "environment"
            ? grain.CreateAsync(spec with { Environment = given })
            : grain.CreateAsync(spec, given));
        Assert.Equal((field, WorkspaceRejection.Invalid), (refused.Field, refused.Kind));
        await Assert.ThrowsAsync<WorkspaceRejectedException>(() => grain.GetStatusAsync());
    }

    [Fact]
    public void A_sealed_secret_opens_only_for_its_workspace_and_name_and_with_its_key()
    {
        var key = new SecretSealer(Microsoft.Extensions.Options.Options.Create(new SecretOptions { Key = fixture.SecretKey }));
        var sealedValue = key.Seal("ws-a", "TOKEN", "value");
        Assert.Equal("value", key.Open("ws-a", "TOKEN", sealedValue));
        Assert.DoesNotContain("value", sealedValue, StringComparison.Ordinal);
        Assert.NotEqual(sealedValue, key.Seal("ws-a", "TOKEN", "value"));

        Assert.ThrowsAny<CryptographicException>(() => key.Open("ws-b", "TOKEN", sealedValue));
        Assert.ThrowsAny<CryptographicException>(() => key.Open("ws-a", "OTHER", sealedValue));
        var tampered = sealedValue[..^2] + (sealedValue[^2] == 'A' ? "B" : "A") + sealedValue[^1];
        Assert.ThrowsAny<CryptographicException>(() => key.Open("ws-a", "TOKEN", tampered));
        var otherKey = new SecretSealer(Microsoft.Extensions.Options.Options.Create(new SecretOptions { Key = Convert.ToBase64String(RandomNumberGenerator.GetBytes(32)) }));
        Assert.ThrowsAny<CryptographicException>(() => otherKey.Open("ws-a", "TOKEN", sealedValue));
    }
}
