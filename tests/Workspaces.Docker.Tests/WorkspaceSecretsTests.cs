namespace CloudDevEnv.Workspaces.Docker.Tests;

/// <summary>Secrets and variables on the real engine: the hooks and the IDE's processes have them, the container's
/// configuration (what <c>docker inspect</c> shows anyone with the engine) does not.</summary>
[Collection(WorkspaceClusterCollection.Name)]
public sealed class WorkspaceSecretsTests(WorkspaceClusterFixture fixture)
{
    private readonly WorkspaceProbe _probe = new(fixture);

    [Fact]
    public async Task A_secret_reaches_the_hooks_and_the_ide_but_not_the_containers_configuration()
    {
        var repository = fixture.NewRepository("secrets");
        repository.Write(".devcontainer/devcontainer.json", """
            { "postCreateCommand": "printf '%s %s' \"$GREETING\" \"$NPM_TOKEN\" > /tmp/cde-hook-saw" }
            """).Commit("main");
        var id = fixture.NewId("secrets");
        var grain = fixture.Client.GetGrain<IWorkspaceGrain>(id);
        var secret = "tok-" + Guid.NewGuid().ToString("N");
        await grain.CreateAsync(
            new WorkspaceSpec(repository.Url, null, "wdt-owner", null, null, null, Environment: new Dictionary<string, string> { ["GREETING"] = "hello" }),
            new Dictionary<string, string> { ["NPM_TOKEN"] = secret });
        await _probe.PhaseAsync(grain, WorkspacePhase.Running, seconds: 150);

        Assert.Equal($"hello {secret}", await _probe.ShAsync(id, "cat /tmp/cde-hook-saw"));
        // code-server's own process (and so every terminal it opens) has it in its environment. The pattern's brackets
        // keep it from matching this very script's shell and grep, whose command lines hold the pattern itself.
        var ide = await _probe.ShAsync(id,
            "for p in /proc/[0-9]*; do if tr '\\0' ' ' < $p/cmdline 2>/dev/null | grep -q '[c]ode-server.*--bind-addr'; then tr '\\0' '\\n' < $p/environ | grep '^NPM_TOKEN='; break; fi; done",
            user: "vscode");
        Assert.Equal($"NPM_TOKEN={secret}", ide.Split('\n')[0]);

        var inspected = await fixture.Engine.Containers.InspectContainerAsync("cde-" + id);
        Assert.DoesNotContain(inspected.Config!.Env ?? [], e => e.Contains(secret, StringComparison.Ordinal));
        Assert.DoesNotContain(System.Text.Json.JsonSerializer.Serialize(inspected), secret, StringComparison.Ordinal);

        await grain.DeleteAsync("wdt-owner");
        await _probe.PhaseAsync(grain, WorkspacePhase.Deleted);
    }
}
