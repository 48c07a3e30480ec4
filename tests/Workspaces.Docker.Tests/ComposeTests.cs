using Docker.DotNet.Models;

namespace CloudDevEnv.Workspaces.Docker.Tests;

/// <summary>A Docker Compose configuration on the real engine: the workspace is the service devcontainer.json names,
/// a second service (built from the repository, a git daemon with a health check) runs beside it, answers the
/// workspace by its service name before the hooks run, shares a named volume with it, is held to the workspace's
/// confinement, and stops, starts and goes with it.</summary>
[Collection(WorkspaceClusterCollection.Name)]
public sealed class ComposeTests(WorkspaceClusterFixture fixture)
{
    private readonly WorkspaceProbe _probe = new(fixture);

    private TestRepository ComposeRepository()
    {
        var repository = fixture.NewRepository("compose");
        repository.Write(".devcontainer/devcontainer.json", """
                {
                  "name": "App & store",
                  "dockerComposeFile": "docker-compose.yml",
                  "service": "app",
                  "runServices": ["app", "store"],
                  "workspaceFolder": "/workspaces/${localWorkspaceFolderBasename}",
                  "postCreateCommand": "git ls-remote \"$STORE_URL\" > /tmp/store-refs"
                }
                """)
            .Write(".devcontainer/docker-compose.yml", $$"""
                version: '3.8'
                services:
                  app:
                    image: {{WorkspaceImages.WorkspaceImage}}
                    volumes:
                      - ../..:/workspaces:cached
                      - shared:/var/cache/shared
                    environment:
                      STORE_URL: git://store/seed
                    command: sleep infinity
                    depends_on:
                      store:
                        condition: service_healthy
                  store:
                    build:
                      context: ./store
                    command: ["/bin/sh", "/srv/start.sh"]
                    restart: unless-stopped
                    privileged: true
                    volumes:
                      - shared:/var/cache/shared
                      - ./store/seed.txt:/srv/seed/seed.txt:ro
                      - /var/run/docker.sock:/var/run/docker.sock
                    healthcheck:
                      test: ["CMD", "git", "ls-remote", "git://127.0.0.1/seed"]
                      interval: 1s
                      retries: 60
                  unused:
                    image: example.invalid/never-pulled:1
                volumes:
                  shared:
                """)
            .Write(".devcontainer/store/Dockerfile", $"FROM {WorkspaceImages.BaseImage}\nCOPY start.sh /srv/start.sh\n")
            .Write(".devcontainer/store/seed.txt", "seeded by the store\n")
            .Write(".devcontainer/store/start.sh", """
                set -e
                if [ ! -d /srv/git/seed ]; then
                  git init -q --bare /srv/git/seed
                  work=$(mktemp -d)
                  git -C "$work" init -q
                  cp /srv/seed/seed.txt "$work"/
                  git -C "$work" add . && git -C "$work" -c user.name=store -c user.email=store@localhost commit -qm seed
                  git -C "$work" push -q /srv/git/seed HEAD:refs/heads/main
                fi
                echo "from the store" > /var/cache/shared/hello
                ls -l /var/run/docker.sock > /var/cache/shared/socket 2>&1 || echo "no socket" > /var/cache/shared/socket
                grep -E '^(CapEff|NoNewPrivs)' /proc/self/status > /var/cache/shared/confinement
                exec git daemon --reuseaddr --export-all --enable=upload-archive --base-path=/srv/git --listen=127.0.0.1 --port=9418 /srv/git
                """)
            .Commit("main");
        return repository;
    }

    [Fact]
    public async Task The_second_service_answers_by_name_shares_a_volume_is_confined_and_goes_with_the_workspace()
    {
        var repository = ComposeRepository();
        var id = fixture.NewId("compose");
        var grain = fixture.Client.GetGrain<IWorkspaceGrain>(id);
        await grain.CreateAsync(new WorkspaceSpec(repository.Url, null, "wdt-owner", null, null, null));
        var running = await _probe.PhaseAsync(grain, WorkspacePhase.Running, seconds: 300);
        var companion = await fixture.Engine.Containers.InspectContainerAsync($"cde-{id}--store");
        fixture.OwnImage(companion.Config!.Image);

        // The hook ran after the store was healthy, and reached it by its service name.
        Assert.Contains("refs/heads/main", await _probe.ShAsync(id, "cat /tmp/store-refs"));
        Assert.Contains("refs/heads/main", await _probe.ShAsync(id, "git ls-remote git://store/seed", user: "vscode"));
        Assert.Equal("from the store", await _probe.ShAsync(id, "cat /var/cache/shared/hello"));
        Assert.Equal("seeded by the store", await _probe.ShAsync(id, "git archive --remote=git://store/seed main seed.txt | tar -xO", user: "vscode"));

        // Held to the workspace's confinement: what the policy left out is named, and absent.
        Assert.Contains(running.Image!.Notes, n => n.Contains("services.store.privileged: true was left out", StringComparison.Ordinal));
        Assert.Contains(running.Image.Notes, n => n.Contains("'/var/run/docker.sock:/var/run/docker.sock' was left out", StringComparison.Ordinal));
        Assert.Contains(running.Image.Notes, n => n.Contains("the service unused is not started", StringComparison.Ordinal));
        Assert.Equal("no socket", await _probe.ShAsync(id, "cat /var/cache/shared/socket"));
        Assert.Contains("NoNewPrivs:\t1", await _probe.ShAsync(id, "cat /var/cache/shared/confinement"));
        Assert.False(companion.HostConfig!.Privileged);
        Assert.Empty(companion.HostConfig.Binds ?? []);
        Assert.DoesNotContain(companion.Mounts ?? [], m => m.Type == "bind");
        var workspace = await fixture.Engine.Containers.InspectContainerAsync($"cde-{id}");
        Assert.Equal($"container:{workspace.ID}", companion.HostConfig.NetworkMode);
        Assert.Empty(await fixture.Engine.Containers.ListContainersAsync(new ContainersListParameters
        {
            All = true,
            Filters = new Dictionary<string, IDictionary<string, bool>> { ["name"] = new Dictionary<string, bool> { [$"cde-{id}--unused"] = true } },
        }));

        // Stopped with the workspace, started with it (its data kept), removed with it.
        await grain.StopAsync("wdt-owner");
        await _probe.PhaseAsync(grain, WorkspacePhase.Stopped);
        Assert.False((await fixture.Engine.Containers.InspectContainerAsync(companion.ID)).State!.Running);
        await grain.StartAsync("wdt-owner");
        await _probe.PhaseAsync(grain, WorkspacePhase.Running, seconds: 120);
        Assert.Contains("refs/heads/main", await _probe.ShAsync(id, "git ls-remote git://store/seed", user: "vscode"));

        await grain.DeleteAsync("wdt-owner");
        await _probe.PhaseAsync(grain, WorkspacePhase.Deleted);
        var left = await fixture.Engine.Containers.ListContainersAsync(new ContainersListParameters
        {
            All = true,
            Filters = new Dictionary<string, IDictionary<string, bool>> { ["label"] = new Dictionary<string, bool> { [$"{RuntimeLabels.CompanionOf}={id}"] = true } },
        });
        Assert.Empty(left);
        Assert.Equal(0, await _probe.VolumeCountAsync(id));
    }
}
