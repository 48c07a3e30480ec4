namespace CloudDevEnv.Grains.Tests;

[Collection(ClusterCollection.Name)]
public sealed class WorkspaceValidationTests(ClusterFixture fixture)
{
    [Theory]
    [InlineData("http://github.com/octo/hello", "Plain http://")]
    [InlineData("http://127.0.0.1/repo", "Plain http://")]
    [InlineData("ftp://example.com/repo", "'ftp' scheme")]
    [InlineData("https://localhost/repo", "localhost")]
    [InlineData("https://127.0.0.1/repo.git", "loopback, private or link-local")]
    [InlineData("https://10.1.2.3/repo.git", "loopback, private or link-local")]
    [InlineData("https://192.168.0.10/repo.git", "loopback, private or link-local")]
    [InlineData("https://[::1]/repo.git", "loopback, private or link-local")]
    [InlineData("ssh://git@169.254.169.254/repo.git", "loopback, private or link-local")]
    [InlineData("git@172.16.0.1:team/repo.git", "loopback, private or link-local")]
    [InlineData("https://user:token@github.com/octo/hello", "credentials")]
    [InlineData("not a url", "without spaces")]
    [InlineData("", "required")]
    [InlineData("file:///etc", "allowed folders")]
    [InlineData("https://github.com/", "no repository path")]
    public async Task Disallowed_repository_urls_are_refused_and_nothing_is_created(string repoUrl, string reason)
    {
        var id = WorkspaceId.NewId();
        var grain = fixture.Client.GetGrain<IWorkspaceGrain>(id);
        var spec = Specs.New(repoUrl: repoUrl);

        var error = await Assert.ThrowsAsync<WorkspaceRejectedException>(() => grain.CreateAsync(spec));

        Assert.Equal(WorkspaceRejection.Invalid, error.Kind);
        Assert.Equal("repoUrl", error.Field);
        Assert.Contains(reason, error.Message);
        Assert.Equal(WorkspaceRejection.NotFound, (await Assert.ThrowsAsync<WorkspaceRejectedException>(grain.GetStatusAsync)).Kind);
        Assert.Empty(await fixture.Client.GetGrain<IOwnerGrain>(spec.Owner).ListAsync());
        Assert.False(fixture.Runtime.Exists(id));
    }

    [Fact]
    public async Task A_file_url_is_cloned_in_a_short_lived_instance_and_never_mounted_into_the_workspace()
    {
        var id = WorkspaceId.NewId();
        var grain = fixture.Client.GetGrain<IWorkspaceGrain>(id);
        var folder = Path.Combine(fixture.LocalRepoRoot, "hello");

        await grain.CreateAsync(Specs.New(repoUrl: new Uri(folder).AbsoluteUri));
        await Eventually.PhaseAsync(grain, WorkspacePhase.Running);

        // Read-only, from its real path, and only in the prepare instances (one to read devcontainer.json, one to clone:
        // this runtime double, as Kubernetes, cannot mount one instance's volume into another, so the clone is copied in).
        var prepares = fixture.Runtime.Created.Where(s => s.WorkspaceId == id + "-prepare").ToList();
        Assert.Equal(2, prepares.Count);
        Assert.All(prepares, p => Assert.Equal(
            [new InstanceMount(folder, "/mnt/cde-repo", true, InstanceMountKind.Bind)],
            p.Mounts));
        Assert.False(fixture.Runtime.Exists(id + "-prepare"));

        var workspace = Assert.Single(fixture.Runtime.Created, s => s.WorkspaceId == id);
        Assert.DoesNotContain(workspace.Mounts, m => m.Kind == InstanceMountKind.Bind);
        Assert.DoesNotContain(fixture.Runtime.Execs(id), e => e.Command.Contains("clone"));
        Assert.Contains(fixture.Runtime.Execs(id), e => e.Command.SequenceEqual(["chown", "-R", "--", "vscode", "/workspaces/.cde-clone-hello"]));
        Assert.Contains(fixture.Runtime.Execs(id), e => e.Command is ["/bin/sh", "-c", _, "cde-place", "/workspaces/hello", "/workspaces/.cde-clone-hello", "", "vscode", "place"]);
    }

    [Fact]
    public async Task A_symbolic_link_under_an_allowed_folder_that_points_outside_it_is_refused()
    {
        var outside = Directory.CreateTempSubdirectory("cde-outside-").FullName;
        try
        {
            var link = Path.Combine(fixture.LocalRepoRoot, "escape-" + Guid.NewGuid().ToString("N")[..6]);
            Directory.CreateSymbolicLink(link, outside);
            var grain = fixture.Client.GetGrain<IWorkspaceGrain>(WorkspaceId.NewId());

            foreach (var url in new[] { "file://" + link, "file://" + link + "/", "file://" + link.Replace("escape-", "%65scape-") })
            {
                var error = await Assert.ThrowsAsync<WorkspaceRejectedException>(() => grain.CreateAsync(Specs.New(repoUrl: url)));
                Assert.Equal("repoUrl", error.Field);
                Assert.Contains("allowed folders", error.Message);
            }

            Assert.Equal(0, fixture.Runtime.Created.Count(s => s.Mounts.Any(m => m.Source.StartsWith(outside, StringComparison.Ordinal))));
        }
        finally
        {
            Directory.Delete(outside, recursive: true);
        }
    }

    [Fact]
    public async Task A_file_url_that_escapes_the_allowed_folder_is_refused()
    {
        var grain = fixture.Client.GetGrain<IWorkspaceGrain>(WorkspaceId.NewId());
        var escape = "file://" + fixture.LocalRepoRoot + "/hello/../../..";

        var error = await Assert.ThrowsAsync<WorkspaceRejectedException>(() => grain.CreateAsync(Specs.New(repoUrl: escape)));
        Assert.Equal("repoUrl", error.Field);
    }

    [Theory]
    [InlineData("owner", "bad owner!", null, null, null)]
    [InlineData("owner", "", null, null, null)]
    [InlineData("ref", "ada", "--upload-pack=evil", null, null)]
    [InlineData("ref", "ada", "main..dev", null, null)]
    [InlineData("image", "ada", null, "UPPER/case:1", null)]
    [InlineData("idleTimeoutMinutes", "ada", null, null, 0)]
    [InlineData("idleTimeoutMinutes", "ada", null, null, 100000)]
    public async Task Invalid_fields_are_named(string field, string owner, string? gitRef, string? image, int? idleMinutes)
    {
        var grain = fixture.Client.GetGrain<IWorkspaceGrain>(WorkspaceId.NewId());
        var spec = new WorkspaceSpec("https://github.com/octo/hello", gitRef, owner, image, null, idleMinutes is { } m ? TimeSpan.FromMinutes(m) : null);

        var error = await Assert.ThrowsAsync<WorkspaceRejectedException>(() => grain.CreateAsync(spec));
        Assert.Equal(WorkspaceRejection.Invalid, error.Kind);
        Assert.Equal(field, error.Field);
    }

    [Fact]
    public async Task Defaults_are_filled_in_and_kept()
    {
        var grain = fixture.Client.GetGrain<IWorkspaceGrain>(WorkspaceId.NewId());
        var status = await grain.CreateAsync(Specs.New());

        Assert.Equal(TimeSpan.FromMinutes(30), status.Spec.IdleTimeout);
        Assert.Equal(new ResourceLimits(2, 4L * 1024 * 1024 * 1024), status.Spec.Resources);
    }
}
