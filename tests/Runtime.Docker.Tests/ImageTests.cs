namespace CloudDevEnv.Runtime.Docker.Tests;

[Collection(DockerCollection.Name)]
public sealed class ImageTests(DockerFixture fx, ITestOutputHelper output) : IDisposable
{
    private readonly string _context = Directory.CreateTempSubdirectory("cde-build-test-").FullName;

    public void Dispose() => Directory.Delete(_context, recursive: true);

    [Fact]
    public async Task Present_images_are_used_as_they_are()
    {
        var log = new LineCollector(output);
        var prepared = await fx.Runtime.PrepareImageAsync(new ImageRequest(WorkspaceImages.WorkspaceImage), log, default);
        Assert.Equal(WorkspaceImages.WorkspaceImage, prepared.Image);
        Assert.False(prepared.Built);
    }

    [Fact]
    public async Task The_ide_bundle_reaches_an_image_that_lacks_it()
    {
        // A tiny image FROM the base image, with a user of its own and no IDE; .dockerignore is honoured.
        File.WriteAllText(Path.Combine(_context, "Dockerfile"), $"""
            FROM {WorkspaceImages.BaseImage}
            COPY . /context/
            RUN useradd --create-home --uid 1001 dev && test ! -e /opt/clouddevenv/ide && test ! -e /context/secret.txt && test -f /context/kept.txt
            USER dev
            """);
        File.WriteAllText(Path.Combine(_context, "kept.txt"), "kept");
        File.WriteAllText(Path.Combine(_context, "secret.txt"), "must not be sent");
        File.WriteAllText(Path.Combine(_context, ".dockerignore"), "secret.txt\n");

        var tag = fx.NewImageTag("no-ide");
        var log = new LineCollector(output);
        var prepared = await fx.Runtime.PrepareImageAsync(
            new ImageRequest(tag, new ImageBuild(_context, "Dockerfile", new Dictionary<string, string>(), null)), log, default);
        Assert.True(prepared.Built);
        Assert.Equal(tag, prepared.Image);
        Assert.Contains(log.Lines, l => l.StartsWith("Step 1/", StringComparison.Ordinal));

        // Present now: prepared again without a build.
        var again = await fx.Runtime.PrepareImageAsync(
            new ImageRequest(tag, new ImageBuild(_context, "Dockerfile", new Dictionary<string, string>(), null)), new LineCollector(), default);
        Assert.False(again.Built);

        var id = fx.NewWorkspaceId("bundle");
        try
        {
            await fx.Runtime.CreateAsync(fx.Spec(id, image: tag, gateway: DockerFixture.Gateway), default);
            await fx.Runtime.StartAsync(id, default);

            var version = await fx.Runtime.ExecAsync(id, new ExecRequest([WorkspaceImages.CodeServerPath, "--version"]), new LineCollector(output), default);
            Assert.Equal(0, version.ExitCode);
            Assert.Matches(@"(?m)^4\.\d+\.\d+ [0-9a-f]+ with Code", version.OutputTail);

            // Read-only for the workspace; /workspaces handed to the image's user; its home persisted under /home.
            var checks = await fx.Runtime.ExecAsync(id, new ExecRequest(["sh", "-c",
                "id -un; touch /opt/clouddevenv/ide/x 2>/dev/null && echo ide-writable || echo ide-read-only; " +
                "touch /workspaces/mine && echo workspaces-writable; echo $HOME"]), new LineCollector(output), default);
            Assert.Equal("dev\nide-read-only\nworkspaces-writable\n/home/dev", checks.OutputTail);

            await fx.Runtime.ExecAsync(id, new ExecRequest(
                [WorkspaceImages.CodeServerPath, "--auth", "none", "--bind-addr", "127.0.0.1:13337", "/workspaces"], Detached: true), new LineCollector(), default);
            var answered = await Eventually.WaitAsync(() => fx.Runtime.ProbeIdeAsync(id, default), TimeSpan.FromSeconds(90), "code-server in an image without the IDE");
            output.WriteLine($"code-server answered after {answered.TotalMilliseconds:0} ms");
        }
        finally
        {
            await fx.Runtime.DeleteAsync(id, default);
        }
    }

    [Fact]
    public async Task A_failing_build_is_a_permanent_error_with_the_build_output()
    {
        File.WriteAllText(Path.Combine(_context, "Dockerfile"), $"""
            FROM {WorkspaceImages.BaseImage}
            RUN echo marker-before-failure && exit 7
            """);
        var tag = fx.NewImageTag("broken");
        var log = new LineCollector(output);
        var ex = await Assert.ThrowsAsync<WorkspaceRuntimeException>(() => fx.Runtime.PrepareImageAsync(
            new ImageRequest(tag, new ImageBuild(_context, "Dockerfile", new Dictionary<string, string>(), null)), log, default));
        output.WriteLine(ex.Message);
        Assert.True(ex.IsPermanent);
        Assert.Contains("marker-before-failure", ex.Message);
        Assert.Contains("non-zero code: 7", ex.Message);
        Assert.DoesNotContain("   at ", ex.Message);
        Assert.Contains(log.Lines, l => l.Contains("marker-before-failure"));

        // A Dockerfile that does not parse, and one that is missing: permanent too.
        File.WriteAllText(Path.Combine(_context, "Dockerfile.bad"), "FROM scratch\nNOT-AN-INSTRUCTION here\n");
        var parse = await Assert.ThrowsAsync<WorkspaceRuntimeException>(() => fx.Runtime.PrepareImageAsync(
            new ImageRequest(fx.NewImageTag("unparsable"), new ImageBuild(_context, "Dockerfile.bad", new Dictionary<string, string>(), null)), new LineCollector(output), default));
        output.WriteLine(parse.Message);
        Assert.True(parse.IsPermanent);
        var missing = await Assert.ThrowsAsync<WorkspaceRuntimeException>(() => fx.Runtime.PrepareImageAsync(
            new ImageRequest(fx.NewImageTag("nodockerfile"), new ImageBuild(_context, "nope/Dockerfile", new Dictionary<string, string>(), null)), new LineCollector(), default));
        Assert.True(missing.IsPermanent);
    }

    [Fact]
    public async Task Build_args_and_targets_reach_the_build()
    {
        File.WriteAllText(Path.Combine(_context, "Dockerfile"), $"""
            FROM {WorkspaceImages.BaseImage} AS first
            ARG GREETING
            RUN echo "first:$GREETING" > /greeting
            FROM first AS second
            RUN exit 1
            """);
        var tag = fx.NewImageTag("args");
        var prepared = await fx.Runtime.PrepareImageAsync(new ImageRequest(tag, new ImageBuild(_context, "Dockerfile",
            new Dictionary<string, string> { ["GREETING"] = "hi" }, "first")), new LineCollector(output), default);
        Assert.True(prepared.Built);
        var id = fx.NewWorkspaceId("args");
        try
        {
            await fx.Runtime.CreateAsync(fx.Spec(id, image: tag), default);
            await fx.Runtime.StartAsync(id, default);
            var result = await fx.Runtime.ExecAsync(id, new ExecRequest(["cat", "/greeting"]), new LineCollector(), default);
            Assert.Equal("first:hi", result.OutputTail);
        }
        finally
        {
            await fx.Runtime.DeleteAsync(id, default);
        }
    }

    [Fact]
    public async Task An_image_no_registry_can_serve_is_a_permanent_error()
    {
        // A registry on a loopback port where nothing listens: the engine's pull fails without leaving this host.
        var ex = await Assert.ThrowsAsync<WorkspaceRuntimeException>(() => fx.Runtime.PrepareImageAsync(
            new ImageRequest("127.0.0.1:9/clouddevenv-tests/absent:1"), new LineCollector(output), default));
        output.WriteLine(ex.Message);
        Assert.True(ex.IsPermanent);
        Assert.Contains("not available locally and no registry could serve it", ex.Message);
    }
}
