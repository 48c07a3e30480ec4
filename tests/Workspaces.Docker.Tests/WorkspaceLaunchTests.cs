using Docker.DotNet.Models;

namespace CloudDevEnv.Workspaces.Docker.Tests;

/// <summary>Launches real workspaces from local Git repositories, one image source per test, and walks each through
/// the lifecycle: Running with the clone at the ref, the hooks run, containerEnv set and the IDE answering; stop
/// keeps the volumes; start brings back an uncommitted file; delete removes container and volumes.</summary>
[Collection(WorkspaceClusterCollection.Name)]
public sealed class WorkspaceLaunchTests(WorkspaceClusterFixture fixture)
{
    private const string Owner = "wdt-owner";
    private readonly WorkspaceProbe _probe = new(fixture);

    /// <summary>Every form of lifecycle command, and env from both sides. <paramref name="source"/> is the JSON of the
    /// image part (or nothing, for the fallback image).</summary>
    public static string Config(string source, string extra = "") => $$"""
        {
          // JSONC: comments and trailing commas are fine.
          {{source}}
          {{extra}}
          "containerEnv": { "CDE_TEST_VAR": "from-container-env" },
          "remoteEnv": {
            "CDE_REMOTE_VAR": "remote-${containerEnv:CDE_TEST_VAR}",
            "CDE_REMOTE_MORE": "${containerEnv:HOME}|${containerEnv:CDE_NOT_SET:fallback}|${containerEnv:CDE_NOT_SET_EITHER}|${containerEnv:CDE_TEST_VAR}",
          },
          "onCreateCommand": ["/bin/sh", "-c", "echo on-create >> /tmp/cde-on-create"],
          "updateContentCommand": { "a": "echo a > /tmp/cde-update-a", "b": ["/bin/sh", "-c", "echo b > /tmp/cde-update-b"] },
          "postCreateCommand": "echo \"$CDE_TEST_VAR $CDE_REMOTE_VAR $(id -un) $(pwd)\" > .cde-post-create && echo \"$CDE_REMOTE_MORE\" > .cde-remote-more",
          "postStartCommand": "echo started >> .cde-post-start",
        }
        """;

    [Fact]
    public async Task Fallback_image_launches_stops_starts_survives_a_kill_and_deletes()
    {
        var (repository, head) = MakeRepository("fallback", Config(source: ""));
        var id = await LaunchAndExerciseAsync(repository, head, image: null, ImageSource.Fallback, expectedUser: "vscode", deleteAtEnd: false);
        var grain = fixture.Client.GetGrain<IWorkspaceGrain>(id);

        // Killed behind the platform's back: Interrupted, then started again because Running is desired.
        var before = (await grain.GetStatusAsync()).Version;
        await fixture.Engine.Containers.KillContainerAsync("cde-" + id, new ContainerKillParameters());
        await Eventually(async () => (await grain.GetStatusAsync()).RecentEvents.Any(e => e.Phase == WorkspacePhase.Interrupted && e.Kind == WorkspaceEventKind.Phase), "Interrupted");
        var back = await _probe.PhaseAsync(grain, WorkspacePhase.Running);
        Assert.True(back.Version > before);
        Assert.True(await _probe.IdeAnswersAsync(grain));
        Assert.Equal(head, await _probe.ShAsync(id, $"git -C /workspaces/{Path.GetFileName(repository.Path)} rev-parse HEAD", "vscode"));

        await DeleteAndVerifyAsync(grain, id);
    }

    [Fact]
    public async Task A_slow_postCreateCommand_runs_beside_the_IDE_once_and_postStartCommand_after_it()
    {
        var (repository, _) = MakeRepository("slowhook", $$"""
            {
              "image": "{{WorkspaceImages.BaseImage}}",
              "onCreateCommand": "echo on-create >> /tmp/cde-on-create",
              "postCreateCommand": "sleep 8 && echo post-create >> .cde-post-create",
              "postStartCommand": "cat .cde-post-create >> .cde-post-start 2>/dev/null; echo post-start >> .cde-post-start",
            }
            """);
        var id = fixture.NewId("slowhook");
        var folder = $"/workspaces/{Path.GetFileName(repository.Path)}";
        var grain = fixture.Client.GetGrain<IWorkspaceGrain>(id);
        await grain.CreateAsync(new WorkspaceSpec(repository.Url, "release", Owner, null, null, null));

        // Running, and the IDE answers, while postCreateCommand still sleeps; onCreateCommand (before waitFor) is done.
        var running = await _probe.PhaseAsync(grain, WorkspacePhase.Running, seconds: 150, hooksDone: false);
        Assert.True(running.HooksRunning, "the workspace waited for postCreateCommand");
        Assert.True(await _probe.IdeAnswersAsync(grain), "code-server does not answer while postCreateCommand runs");
        Assert.Equal("on-create", await _probe.ShAsync(id, "cat /tmp/cde-on-create"));
        Assert.NotEqual(0, (await _probe.TryShAsync(id, $"test -e {folder}/.cde-post-create")).ExitCode);

        // Then each hook ran exactly once, postStartCommand after postCreateCommand.
        var done = await _probe.PhaseAsync(grain, WorkspacePhase.Running, seconds: 60);
        Assert.Null(done.HookFailure);
        Assert.Equal("post-create", await _probe.ShAsync(id, $"cat {folder}/.cde-post-create"));
        Assert.Equal("post-create\npost-start", await _probe.ShAsync(id, $"cat {folder}/.cde-post-start"));
        Assert.Equal("on-create", await _probe.ShAsync(id, "cat /tmp/cde-on-create"));

        await DeleteAndVerifyAsync(grain, id);
    }

    [Fact]
    public async Task Devcontainer_image_is_used()
    {
        var (repository, head) = MakeRepository("image", Config($"\"image\": \"{WorkspaceImages.BaseImage}\","));
        await LaunchAndExerciseAsync(repository, head, image: null, ImageSource.DevContainerImage, expectedUser: "root");
    }

    [Fact]
    public async Task Devcontainer_dockerfile_is_built_with_its_output_streamed()
    {
        var (repository, head) = MakeRepository(
            "build",
            Config("\"build\": { \"dockerfile\": \"Dockerfile\", \"args\": { \"MARKER\": \"built-" + fixture.RunId + "\" } },"),
            files: new()
            {
                [".devcontainer/Dockerfile"] = $"FROM {WorkspaceImages.BaseImage}\nARG MARKER\nRUN echo \"$MARKER\" > /etc/cde-build-marker && echo build-step-ran\n",
            });
        var id = await LaunchAndExerciseAsync(repository, head, image: null, ImageSource.DevContainerBuild, expectedUser: "root", deleteAtEnd: false,
            inspect: async (workspaceId, status) =>
            {
                fixture.OwnImage(status.Image!.Image);
                Assert.StartsWith("clouddevenv/build/", status.Image.Image);
                Assert.Equal($"built-{fixture.RunId}", await _probe.ShAsync(workspaceId, "cat /etc/cde-build-marker"));
                Assert.Contains(status.RecentEvents, e => e.Kind == WorkspaceEventKind.Log && e.Message.Contains("build-step-ran"));
            });
        await DeleteAndVerifyAsync(fixture.Client.GetGrain<IWorkspaceGrain>(id), id);
    }

    [Fact]
    public async Task Prebuilt_image_in_the_request_wins_over_devcontainer_json()
    {
        var prebuilt = $"clouddevenv-tests/prebuilt:{fixture.RunId}";
        await fixture.Engine.Images.TagImageAsync(WorkspaceImages.WorkspaceImage, new ImageTagParameters { RepositoryName = "clouddevenv-tests/prebuilt", Tag = fixture.RunId });
        fixture.OwnImage(prebuilt);
        var (repository, head) = MakeRepository("prebuilt", Config($"\"image\": \"{WorkspaceImages.BaseImage}\",", "\"remoteUser\": \"vscode\","));
        await LaunchAndExerciseAsync(repository, head, image: prebuilt, ImageSource.Request, expectedUser: "vscode");
    }

    private (TestRepository Repository, string ReleaseHead) MakeRepository(string name, string config, Dictionary<string, string>? files = null)
    {
        var repository = fixture.NewRepository(name);
        repository.Write("README.md", "# test\n").Write(".devcontainer/devcontainer.json", config);
        foreach (var (path, content) in files ?? [])
        {
            repository.Write(path, content);
        }

        repository.Commit("main");
        // The launch asks for another branch than the one checked out: the clone must follow the ref.
        repository.Git("checkout", "--quiet", "-b", "release");
        var head = repository.Write("release.txt", "release\n").Commit("release");
        repository.Git("checkout", "--quiet", "main");
        return (repository, head);
    }

    private async Task<string> LaunchAndExerciseAsync(
        TestRepository repository, string expectedHead, string? image, ImageSource expectedSource, string expectedUser,
        bool deleteAtEnd = true, Func<string, WorkspaceStatus, Task>? inspect = null)
    {
        var name = Path.GetFileName(repository.Path);
        var id = fixture.NewId(name.Split('-')[0]);
        var folder = $"/workspaces/{name}";
        var grain = fixture.Client.GetGrain<IWorkspaceGrain>(id);
        await grain.CreateAsync(new WorkspaceSpec(repository.Url, "release", Owner, image, null, null));

        var running = await _probe.PhaseAsync(grain, WorkspacePhase.Running, seconds: 150);
        Assert.Equal(expectedSource, running.Image!.Source);
        Assert.Equal("cde-" + id, running.Instance);
        if (expectedSource != ImageSource.Request)
        {
            Assert.Contains("no image was named in the request", running.Image.Notes);
        }

        // The clone is inside the container, at the ref, owned by and readable as the workspace user.
        Assert.Equal(expectedHead, await _probe.ShAsync(id, $"git -C {folder} rev-parse HEAD", expectedUser));
        Assert.Equal(expectedUser, await _probe.ShAsync(id, $"stat -c %U {folder}/release.txt"));

        // The hooks ran in order, as the workspace user, in the workspace folder, with containerEnv and remoteEnv.
        Assert.Equal($"from-container-env remote-from-container-env {expectedUser} {folder}", await _probe.ShAsync(id, $"cat {folder}/.cde-post-create"));
        // Several containerEnv references, read in one exec: set, unset with a default, unset without one.
        var home = await _probe.ShAsync(id, "printenv HOME", expectedUser);
        Assert.Equal($"{home}|fallback||from-container-env", await _probe.ShAsync(id, $"cat {folder}/.cde-remote-more"));
        Assert.Equal("on-create", await _probe.ShAsync(id, "cat /tmp/cde-on-create"));
        Assert.Equal("a b", await _probe.ShAsync(id, "echo $(cat /tmp/cde-update-a /tmp/cde-update-b)"));
        Assert.Equal("started", await _probe.ShAsync(id, $"cat {folder}/.cde-post-start"));
        Assert.Equal("from-container-env", await _probe.ShAsync(id, "printenv CDE_TEST_VAR"));
        Assert.Contains(running.RecentEvents, e => e.Kind == WorkspaceEventKind.Log && e.Message == "Running postCreateCommand.");
        Assert.True(await _probe.IdeAnswersAsync(grain), "code-server does not answer on the published port");

        if (inspect is not null)
        {
            await inspect(id, running);
        }

        // Stop keeps the volumes; start brings back what was not committed; postStart runs again, onCreate does not.
        await _probe.ShAsync(id, $"echo keep-me > {folder}/uncommitted.txt", expectedUser);
        await grain.StopAsync("tester");
        await _probe.PhaseAsync(grain, WorkspacePhase.Stopped);
        Assert.Equal(InstanceState.Exited, (await fixture.Runtime.InspectAsync(id, CancellationToken.None))!.State);
        Assert.Equal(2, await _probe.VolumeCountAsync(id));

        await grain.StartAsync("tester");
        await _probe.PhaseAsync(grain, WorkspacePhase.Running, seconds: 120);
        Assert.Equal("keep-me", await _probe.ShAsync(id, $"cat {folder}/uncommitted.txt"));
        Assert.Equal("started\nstarted", await _probe.ShAsync(id, $"cat {folder}/.cde-post-start"));
        Assert.Equal("on-create", await _probe.ShAsync(id, "cat /tmp/cde-on-create"));
        Assert.True(await _probe.IdeAnswersAsync(grain), "code-server does not answer after the restart");

        if (deleteAtEnd)
        {
            await DeleteAndVerifyAsync(grain, id);
        }

        return id;
    }

    private async Task DeleteAndVerifyAsync(IWorkspaceGrain grain, string id)
    {
        await grain.DeleteAsync("tester");
        await _probe.PhaseAsync(grain, WorkspacePhase.Deleted);
        Assert.Null(await fixture.Runtime.InspectAsync(id, CancellationToken.None));
        Assert.Equal(0, await _probe.VolumeCountAsync(id));
    }

    private static async Task Eventually(Func<Task<bool>> condition, string what, int seconds = 60)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(seconds);
        while (!await condition())
        {
            Assert.True(DateTime.UtcNow < deadline, $"Timed out waiting for {what}.");
            await Task.Delay(100);
        }
    }
}
