namespace CloudDevEnv.Grains.Tests;

/// <summary>devcontainer.json of a repository not on this host, read through a prepare instance of the runtime
/// double: what the grain asks of the runtime, and how each failure reads.</summary>
[Collection(ClusterCollection.Name)]
public sealed class RemoteDevContainerTests(ClusterFixture fixture)
{
    private IWorkspaceGrain NewGrain() => fixture.Client.GetGrain<IWorkspaceGrain>(WorkspaceId.NewId());

    private static string NewRepoUrl() => $"https://github.com/octo/r{Guid.NewGuid():N}.git";

    [Fact]
    public async Task The_prepare_instance_clones_the_repository_and_is_removed_and_devcontainer_json_applies()
    {
        var grain = NewGrain();
        var id = grain.GetPrimaryKeyString();
        var url = NewRepoUrl();
        fixture.Runtime.RepositoryFiles[url] = new Dictionary<string, string>
        {
            [".devcontainer/devcontainer.json"] = """
                {
                  "image": "example.org/dev:1",
                  "remoteUser": "root",
                  "mounts": ["source=cache,target=/cache,type=volume", "type=tmpfs,target=/scratch"],
                  "postAttachCommand": "echo attached",
                }
                """,
        };

        await grain.CreateAsync(Specs.New(repoUrl: url, gitRef: "main"));
        var running = await Eventually.PhaseAsync(grain, WorkspacePhase.Running);

        Assert.Equal(ImageSource.DevContainerImage, running.Image!.Source);
        Assert.Equal("example.org/dev:1", running.Image.Image);
        Assert.Contains(running.Image.Notes, n => n.StartsWith("postAttachCommand is not run", StringComparison.Ordinal));
        Assert.Contains("the tmpfs mount at /scratch is not applied (only volume mounts are)", running.Image.Notes);

        var prepare = Assert.Single(fixture.Runtime.Created, s => s.WorkspaceId == id + "-prepare");
        Assert.Equal("0", prepare.User);
        Assert.Null(prepare.Gateway);
        Assert.False(fixture.Runtime.Exists(id + "-prepare"));

        var workspace = Assert.Single(fixture.Runtime.Created, s => s.WorkspaceId == id);
        Assert.NotNull(workspace.Gateway);
        var volume = Assert.Single(workspace.Mounts);
        Assert.Equal(new InstanceMount("cache", "/cache", false, InstanceMountKind.Volume), volume);
    }

    [Fact]
    public async Task The_images_devcontainer_metadata_names_the_users_when_devcontainer_json_does_not()
    {
        var grain = NewGrain();
        var id = grain.GetPrimaryKeyString();
        var url = NewRepoUrl();
        const string image = "example.org/with-metadata:1";
        fixture.Runtime.Images[image] = new ImageInfo(image, "ignored-image-user", new Dictionary<string, string>
        {
            ["devcontainer.metadata"] = """[{"remoteUser":"first"},{"containerUser":"ctr"},{"remoteUser":"dev"},{"postCreateCommand":"x"}]""",
        });
        fixture.Runtime.RepositoryFiles[url] = new Dictionary<string, string>
        {
            [".devcontainer.json"] = $$"""{ "image": "{{image}}" }""",
        };

        await grain.CreateAsync(Specs.New(repoUrl: url));
        await Eventually.PhaseAsync(grain, WorkspacePhase.Running);

        Assert.Equal("ctr", Assert.Single(fixture.Runtime.Created, s => s.WorkspaceId == id).User);
        Assert.Equal("dev", Assert.Single(fixture.Runtime.Execs(id), e => e.Command.Contains("clone")).User);
        Assert.Equal("dev", Assert.Single(fixture.Runtime.Execs(id), e => e.Detached).User);
    }

    [Fact]
    public async Task A_clone_refused_in_the_prepare_instance_fails_with_gits_message_before_any_workspace_instance()
    {
        var grain = NewGrain();
        var id = grain.GetPrimaryKeyString();
        fixture.Runtime.ExecHandler = (workspace, request) =>
            workspace == id + "-prepare" && request.Command.Contains("clone")
                ? new ExecResult(128, "fatal: repository 'https://github.com/octo/gone.git/' not found")
                : null;
        try
        {
            await grain.CreateAsync(Specs.New(repoUrl: "https://github.com/octo/gone.git"));
            var failed = await Eventually.PhaseAsync(grain, WorkspacePhase.Failed);

            Assert.Equal("git clone failed (exit 128): fatal: repository 'https://github.com/octo/gone.git/' not found", failed.Reason);
            Assert.False(fixture.Runtime.Exists(id + "-prepare"));
            Assert.False(fixture.Runtime.Exists(id));
        }
        finally
        {
            fixture.Runtime.ExecHandler = null;
        }
    }

    [Fact]
    public async Task A_checkout_over_the_size_limit_fails_with_a_message_naming_the_limit()
    {
        var grain = NewGrain();
        var id = grain.GetPrimaryKeyString();
        var url = NewRepoUrl();
        fixture.Runtime.RepositoryFiles[url] = new Dictionary<string, string>
        {
            ["big.bin"] = new('x', (int)ClusterFixture.MaxCheckoutBytes + 1),
        };

        await grain.CreateAsync(Specs.New(repoUrl: url));
        var failed = await Eventually.PhaseAsync(grain, WorkspacePhase.Failed);

        Assert.StartsWith("The repository is larger than 0.1 MiB (Provisioning:MaxCheckoutBytes)", failed.Reason);
        Assert.False(fixture.Runtime.Exists(id + "-prepare"));
    }
}
