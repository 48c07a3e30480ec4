using System.Text.Json;

namespace CloudDevEnv.Workspaces.Docker.Tests;

/// <summary><c>customizations.vscode</c> on the real engine and the real code-server: settings become the IDE's machine
/// settings, extensions come from the operator's registry or folder (fetched once, kept for every workspace), one that
/// cannot be had is a warning and the workspace runs.</summary>
[Collection(IdeClusterCollection.Name)]
public sealed class IdeCustomizationTests(IdeClusterFixture fixture)
{
    private const string Ide = "/opt/clouddevenv/ide/bin/code-server";
    private readonly WorkspaceProbe _probe = new(fixture);

    private async Task<(IWorkspaceGrain Grain, string Id, WorkspaceStatus Status)> LaunchAsync(TestRepository repository, string name)
    {
        var id = fixture.NewId(name);
        var grain = fixture.Client.GetGrain<IWorkspaceGrain>(id);
        await grain.CreateAsync(new WorkspaceSpec(repository.Url, null, "wdt-owner", null, null, null));
        return (grain, id, await _probe.PhaseAsync(grain, WorkspacePhase.Running, seconds: 240));
    }

    private async Task DeleteAsync(IWorkspaceGrain grain)
    {
        await grain.DeleteAsync("wdt-owner");
        await _probe.PhaseAsync(grain, WorkspacePhase.Deleted);
    }

    private async Task<string[]> InstalledAsync(string id) =>
        (await _probe.ShAsync(id, $"{Ide} --list-extensions --show-versions 2>/dev/null", user: "vscode"))
            .Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);

    [Fact]
    public async Task Extensions_from_the_registry_the_folder_and_a_feature_install_settings_apply_and_a_missing_one_is_a_warning()
    {
        var repository = fixture.NewRepository("ide");
        repository.Write(".devcontainer/devcontainer.json", $$"""
                {
                  "image": "{{WorkspaceImages.WorkspaceImage}}",
                  "remoteUser": "vscode",
                  "features": { "./editor-setup": {} },
                  "customizations": {
                    "vscode": {
                      "settings": { "editor.tabSize": 3, "files.trimTrailingWhitespace": true },
                      // As real configurations write them: mixed case, a pinned version, one nobody publishes.
                      "extensions": ["CDE-Test.From-Registry", "cde-test.from-folder", "cde-test.nowhere", "../../etc/passwd"]
                    }
                  }
                }
                """)
            .Write(".devcontainer/editor-setup/devcontainer-feature.json", """
                {
                  "id": "editor-setup", "version": "1.0.0",
                  "customizations": { "vscode": { "extensions": ["cde-test.from-feature@0.3.0"], "settings": { "editor.tabSize": 8, "editor.rulers": [100] } } }
                }
                """)
            .Write(".devcontainer/editor-setup/install.sh", "#!/bin/sh\ntrue\n")
            .Commit("main");

        var (grain, id, running) = await LaunchAsync(repository, "ide");
        fixture.OwnImage(running.Image!.Image);

        // The registry's latest, the folder's package, the feature's pinned version; nothing else.
        var installed = await InstalledAsync(id);
        Assert.Equal(["cde-test.from-feature@0.3.0", "cde-test.from-folder@0.9.0", "cde-test.from-registry@2.0.0"], installed.Order(StringComparer.Ordinal));
        Assert.Equal("cde-test.from-registry 2.0.0",
            (await _probe.ShAsync(id, "cat ~/.local/share/code-server/extensions/cde-test.from-registry-2.0.0*/marker.txt", user: "vscode")).Trim());

        // devcontainer.json's settings over the feature's, as machine settings of the remote user's IDE.
        using var settings = JsonDocument.Parse(await _probe.ShAsync(id, "cat ~/.local/share/code-server/Machine/settings.json", user: "vscode"));
        Assert.Equal(3, settings.RootElement.GetProperty("editor.tabSize").GetInt32());
        Assert.True(settings.RootElement.GetProperty("files.trimTrailingWhitespace").GetBoolean());
        Assert.Equal(100, settings.RootElement.GetProperty("editor.rulers")[0].GetInt32());

        // What could not be had is named, as a warning, with why; the workspace runs and its IDE answers.
        var warnings = running.RecentEvents.Where(e => e.Kind == WorkspaceEventKind.Warning).Select(e => e.Message).ToList();
        Assert.Contains(warnings, w => w.Contains("cde-test.nowhere is not installed: the registry does not have it", StringComparison.Ordinal));
        Assert.Contains(warnings, w => w.Contains("'../../etc/passwd' is not installed: it is not an extension id", StringComparison.Ordinal));
        Assert.Equal(2, warnings.Count);
        Assert.True(await _probe.IdeAnswersAsync(grain));
        await DeleteAsync(grain);
    }

    [Fact]
    public async Task A_second_workspace_asking_for_the_same_extension_downloads_nothing_and_a_restart_keeps_it()
    {
        var repository = fixture.NewRepository("ide-cache");
        repository.Write(".devcontainer/devcontainer.json", $$"""
                { "image": "{{WorkspaceImages.WorkspaceImage}}", "remoteUser": "vscode", "customizations": { "vscode": { "extensions": ["cde-test.cached"] } } }
                """)
            .Commit("main");

        var (first, firstId, _) = await LaunchAsync(repository, "ide-cache");
        var (second, secondId, _) = await LaunchAsync(repository, "ide-cache");
        Assert.Contains("cde-test.cached@1.1.0", await InstalledAsync(firstId));
        Assert.Contains("cde-test.cached@1.1.0", await InstalledAsync(secondId));
        Assert.Equal(1, fixture.Registry.Downloads("cde-test", "cached", "1.1.0"));
        Assert.True(File.Exists(Path.Combine(fixture.CacheFolder, "cde-test.cached-1.1.0.vsix")));

        await second.StopAsync("wdt-owner");
        await _probe.PhaseAsync(second, WorkspacePhase.Stopped);
        await second.StartAsync("wdt-owner");
        await _probe.PhaseAsync(second, WorkspacePhase.Running);
        Assert.Contains("cde-test.cached@1.1.0", await InstalledAsync(secondId));
        Assert.Equal(1, fixture.Registry.Downloads("cde-test", "cached", "1.1.0"));

        await DeleteAsync(first);
        await DeleteAsync(second);
    }
}
