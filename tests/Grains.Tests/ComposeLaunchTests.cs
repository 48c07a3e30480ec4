namespace CloudDevEnv.Grains.Tests;

/// <summary>A Docker Compose configuration through the grain, on the runtime double: what the workspace's container
/// and its companions are asked to be, and the clear failure on a runtime that runs one container per workspace.</summary>
[Collection(ClusterCollection.Name)]
public sealed class ComposeLaunchTests(ClusterFixture fixture)
{
    private static readonly Dictionary<string, string> Files = new()
    {
        [".devcontainer/devcontainer.json"] = """
            {
              "dockerComposeFile": "docker-compose.yml",
              "service": "app",
              "workspaceFolder": "/workspaces/app",
              "containerEnv": { "FROM_DEVCONTAINER": "wins", "SHARED": "devcontainer" }
            }
            """,
        [".devcontainer/docker-compose.yml"] = """
            services:
              app:
                image: example.org/app:1
                user: dev
                environment: { SHARED: compose, ONLY_COMPOSE: "1" }
                volumes: ["../..:/workspaces:cached", "shared:/shared"]
                depends_on: [db]
              db:
                image: example.org/db:16
                volumes: ["shared:/var/lib/db", "./init.sql:/docker-entrypoint-initdb.d/init.sql:ro"]
                healthcheck: { test: ["CMD", "db-ready"], interval: 1s }
                privileged: true
            volumes:
              shared:
            """,
        [".devcontainer/init.sql"] = "select 1;\n",
    };

    [Fact]
    public async Task The_workspace_is_the_named_service_and_the_others_run_beside_it_sharing_its_volumes()
    {
        var url = $"https://github.com/octo/c{Guid.NewGuid():N}.git";
        fixture.Runtime.RepositoryFiles[url] = Files;
        var grain = fixture.Client.GetGrain<IWorkspaceGrain>(WorkspaceId.NewId());
        await grain.CreateAsync(Specs.New(repoUrl: url));
        var running = await Eventually.PhaseAsync(grain, WorkspacePhase.Running);

        var workspace = Assert.Single(fixture.Runtime.Created, s => s.WorkspaceId == grain.GetPrimaryKeyString());
        Assert.Equal("example.org/app:1", workspace.Image);
        Assert.Equal("dev", workspace.User);
        Assert.Equal(("wins", "devcontainer", "1"), (workspace.Environment["FROM_DEVCONTAINER"], workspace.Environment["SHARED"], workspace.Environment["ONLY_COMPOSE"]));
        Assert.Contains(new InstanceMount("compose-shared", "/shared", false, InstanceMountKind.Volume), workspace.Mounts);
        Assert.Equal(["db"], workspace.HostAliases);

        var db = Assert.Single(workspace.Companions!);
        Assert.Equal(("db", "example.org/db:16"), (db.Name, db.Image));
        Assert.Equal([new InstanceMount("compose-shared", "/var/lib/db", false, InstanceMountKind.Volume)], db.Mounts);
        Assert.Equal(["CMD", "db-ready"], db.Healthcheck!.Test);
        Assert.NotNull(db.Files);

        Assert.Contains(running.Image!.Notes, n => n.Contains("services.db.privileged: true was left out", StringComparison.Ordinal));
        Assert.Contains(running.Image.Notes, n => n.Contains("the repository is not mounted at /workspaces; it is cloned into /workspaces/app", StringComparison.Ordinal));
        await grain.DeleteAsync(WorkspaceActor.Platform);
    }

    [Fact]
    public async Task A_runtime_without_companions_fails_the_launch_saying_why_and_leaves_nothing()
    {
        var url = $"https://github.com/octo/k{Guid.NewGuid():N}.git";
        fixture.Runtime.RepositoryFiles[url] = Files;
        var grain = fixture.Client.GetGrain<IWorkspaceGrain>(WorkspaceId.NewId());
        fixture.Runtime.RunsCompanions = false;
        try
        {
            await grain.CreateAsync(Specs.New(repoUrl: url));
            var failed = await Eventually.PhaseAsync(grain, WorkspacePhase.Failed);
            Assert.Contains("is a Docker Compose configuration, which runs on the Docker runtime only", failed.Reason, StringComparison.Ordinal);
            Assert.False(fixture.Runtime.Exists(grain.GetPrimaryKeyString()));
        }
        finally
        {
            fixture.Runtime.RunsCompanions = true;
        }
    }
}
