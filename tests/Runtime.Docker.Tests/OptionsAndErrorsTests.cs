using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace CloudDevEnv.Runtime.Docker.Tests;

/// <summary>Options, registration and error mapping: no engine needed.</summary>
public sealed class OptionsAndErrorsTests
{
    private static ServiceProvider Provider(Dictionary<string, string?> settings)
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(settings).Build();
        return new ServiceCollection().AddLogging().AddDockerWorkspaceRuntime(configuration).BuildServiceProvider();
    }

    [Fact]
    public void The_runtime_is_registered_with_options_bound_from_Runtime_Docker()
    {
        using var provider = Provider(new()
        {
            ["Runtime:Docker:Endpoint"] = "unix:///var/run/docker.sock",
            ["Runtime:Docker:NamePrefix"] = "ws-",
            ["Runtime:Docker:DefaultStopGrace"] = "00:00:20",
            ["Runtime:Docker:IdeBundleSource"] = "/opt/clouddevenv/ide",
            ["Runtime:Docker:Capabilities:0"] = "CHOWN",
            ["Runtime:Docker:Capabilities:1"] = "SETUID",
        });
        var options = provider.GetRequiredService<IOptions<DockerRuntimeOptions>>().Value;
        Assert.Equal("ws-", options.NamePrefix);
        Assert.Equal(TimeSpan.FromSeconds(20), options.DefaultStopGrace);
        Assert.Equal("/opt/clouddevenv/ide", options.IdeBundleSource);
        Assert.Equal(["CHOWN", "SETUID"], options.Capabilities!);
        Assert.Equal("127.0.0.1", options.PublishAddress);

        var runtime = provider.GetRequiredService<IWorkspaceRuntime>();
        Assert.IsType<DockerWorkspaceRuntime>(runtime);
        Assert.Equal("docker", runtime.Name);
        Assert.Same(runtime, provider.GetRequiredService<DockerWorkspaceRuntime>());
    }

    [Fact]
    public void Defaults_name_the_local_images_of_images_VERSION()
    {
        var options = new DockerRuntimeOptions();
        Assert.Matches(@"^\d+\.\d+\.\d+", WorkspaceImages.Version);
        Assert.Equal($"clouddevenv-ide-{WorkspaceImages.Version}", options.IdeBundleSource);
        Assert.Equal($"clouddevenv/workspace:{WorkspaceImages.Version}", WorkspaceImages.WorkspaceImage);
        var file = Path.Combine(AppContext.BaseDirectory, "../../../../../images/VERSION");
        if (File.Exists(file))
        {
            Assert.Equal(File.ReadAllText(file).Trim(), WorkspaceImages.Version);
        }
    }

    [Theory]
    [InlineData("0.0.0.0")]
    [InlineData("::")]
    [InlineData("192.0.2.2")]
    public void Publishing_beyond_loopback_is_refused_unless_allowed(string address)
    {
        using var provider = Provider(new() { ["Runtime:Docker:PublishAddress"] = address });
        var ex = Assert.Throws<OptionsValidationException>(() => provider.GetRequiredService<IOptions<DockerRuntimeOptions>>().Value);
        Assert.Contains("AllowNonLoopbackPublish", ex.Message);

        using var allowed = Provider(new() { ["Runtime:Docker:PublishAddress"] = address, ["Runtime:Docker:AllowNonLoopbackPublish"] = "true" });
        Assert.Equal(address, allowed.GetRequiredService<IOptions<DockerRuntimeOptions>>().Value.PublishAddress);
    }

    [Theory]
    [InlineData("Endpoint", "not a uri")]
    [InlineData("Endpoint", "ftp://host")]
    [InlineData("PublishAddress", "localhost")]
    [InlineData("IdeBundleSource", "relative/path")]
    [InlineData("IdeBundleTarget", "opt/ide")]
    [InlineData("NamePrefix", "Upper-")]
    [InlineData("DefaultStopGrace", "01:00:00")]
    [InlineData("Capabilities:0", "SYS_ADMIN")]
    [InlineData("ApiVersion", "v1")]
    public void Invalid_options_are_refused_at_start(string key, string value)
    {
        using var provider = Provider(new() { ["Runtime:Docker:" + key] = value });
        Assert.Throws<OptionsValidationException>(() => provider.GetRequiredService<IOptions<DockerRuntimeOptions>>().Value);
        var options = new DockerRuntimeOptions();
        new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?> { [key] = value }).Build().Bind(options);
        Assert.Throws<OptionsValidationException>(() => new DockerWorkspaceRuntime(options));
    }

    [Fact]
    public async Task An_unreachable_engine_is_a_transient_error_without_a_stack_trace()
    {
        using var runtime = new DockerWorkspaceRuntime(new DockerRuntimeOptions { Endpoint = "unix:///tmp/clouddevenv-no-engine.sock" });
        var ex = await Assert.ThrowsAsync<WorkspaceRuntimeException>(() => runtime.InspectAsync("some-workspace", default));
        Assert.False(ex.IsPermanent);
        Assert.Contains("unreachable", ex.Message);
        Assert.Contains("unix:///tmp/clouddevenv-no-engine.sock", ex.Message);
        Assert.DoesNotContain("   at ", ex.Message);

        var list = await Assert.ThrowsAsync<WorkspaceRuntimeException>(() => runtime.ListAsync(default));
        Assert.False(list.IsPermanent);
        var prepare = await Assert.ThrowsAsync<WorkspaceRuntimeException>(() =>
            runtime.PrepareImageAsync(new ImageRequest("debian:bookworm"), new LineCollector(), default));
        Assert.False(prepare.IsPermanent);
    }

    [Fact]
    public void Engine_messages_are_extracted_and_classified()
    {
        var notFound = new global::Docker.DotNet.DockerApiException(System.Net.HttpStatusCode.NotFound, "{\"message\":\"No such container: x\"}\n");
        Assert.Equal("No such container: x", DockerErrors.EngineMessage(notFound));
        var mapped = DockerErrors.Map(notFound, "Doing it", "unix:///x");
        Assert.True(mapped.IsPermanent);
        Assert.Equal("Doing it: No such container: x", mapped.Message);

        var conflict = DockerErrors.Map(new global::Docker.DotNet.DockerApiException(System.Net.HttpStatusCode.Conflict, "{\"message\":\"is not running\"}"), "a", "e");
        Assert.False(conflict.IsPermanent);
        var oci = DockerErrors.Map(new global::Docker.DotNet.DockerApiException(System.Net.HttpStatusCode.InternalServerError,
            "{\"message\":\"OCI runtime create failed: exec: \\\"nope\\\": executable file not found in $PATH\"}"), "a", "e");
        Assert.True(oci.IsPermanent);
        var busy = DockerErrors.Map(new global::Docker.DotNet.DockerApiException(System.Net.HttpStatusCode.InternalServerError,
            "{\"message\":\"driver failed programming external connectivity: port is already allocated\"}"), "a", "e");
        Assert.False(busy.IsPermanent);
    }

    [Theory]
    [InlineData("debian", "debian", "latest")]
    [InlineData("debian:bookworm", "debian", "bookworm")]
    [InlineData("127.0.0.1:5000/team/img", "127.0.0.1:5000/team/img", "latest")]
    [InlineData("127.0.0.1:5000/team/img:1.2", "127.0.0.1:5000/team/img", "1.2")]
    [InlineData("img@sha256:abc", "img", "sha256:abc")]
    public void Image_references_are_split_for_the_pull_api(string image, string name, string tag)
    {
        Assert.Equal((name, tag), DockerWorkspaceRuntime.SplitReference(image));
    }
}

public sealed class DockerIgnoreTests
{
    [Theory]
    [InlineData("node_modules", "node_modules", true)]
    [InlineData("node_modules", "node_modules/a/b.js", true)]
    [InlineData("*.log", "debug.log", true)]
    [InlineData("*.log", "sub/debug.log", false)]
    [InlineData("**/*.log", "sub/deep/debug.log", true)]
    [InlineData("**/*.log", "debug.log", true)]
    [InlineData("/build", "build/out", true)]
    [InlineData("./tmp", "tmp", true)]
    [InlineData("a?c", "abc", true)]
    [InlineData("a?c", "a/c", false)]
    [InlineData("[a-c].txt", "b.txt", true)]
    [InlineData("[!a-c].txt", "b.txt", false)]
    [InlineData("docs", "docsite/index.md", false)]
    public void Patterns_match_like_the_docker_cli(string pattern, string path, bool excluded)
    {
        var ignore = new DockerIgnore();
        ignore.Add(pattern);
        Assert.Equal(excluded, ignore.IsExcluded(path));
    }

    [Fact]
    public void A_hostile_pattern_costs_milliseconds_not_exponential_time()
    {
        // "*a" twenty-five times then "b", against a long name of "a"s that does not match: a backtracking matcher tries
        // every way of splitting the name among the stars (years); the non-backtracking one reads the name once.
        var ignore = new DockerIgnore();
        ignore.Add(string.Concat(Enumerable.Repeat("*a", 25)) + "b");
        ignore.Add("**/" + string.Concat(Enumerable.Repeat("a*", 25)) + "c");
        var path = string.Join('/', Enumerable.Repeat(new string('a', 200), 5));

        var watch = System.Diagnostics.Stopwatch.StartNew();
        for (var i = 0; i < 100; i++)
        {
            Assert.False(ignore.IsExcluded(path));
        }

        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(2), $"100 matches took {watch.Elapsed}");
    }

    [Theory]
    [InlineData("[z-a]")]
    [InlineData("a[b-a]c")]
    public void An_invalid_pattern_is_a_clear_permanent_error(string pattern)
    {
        var ignore = new DockerIgnore();
        var error = Assert.Throws<WorkspaceRuntimeException>(() => ignore.Add(pattern));
        Assert.True(error.IsPermanent);
        Assert.Contains($"The .dockerignore pattern '{pattern}' is not valid", error.Message);
    }

    [Fact]
    public void An_oversized_dockerignore_is_refused_before_it_is_read()
    {
        var folder = Directory.CreateTempSubdirectory("cde-ignore-");
        try
        {
            var path = Path.Combine(folder.FullName, ".dockerignore");
            File.WriteAllText(path, string.Concat(Enumerable.Repeat("pattern-line\n", DockerIgnore.MaxFileBytes / 10)));
            var error = Assert.Throws<WorkspaceRuntimeException>(() => DockerIgnore.Load(path));
            Assert.Contains("at most 256 KiB", error.Message);
        }
        finally
        {
            folder.Delete(recursive: true);
        }
    }

    [Fact]
    public void Exceptions_and_comments_apply_in_order()
    {
        var ignore = new DockerIgnore();
        foreach (var line in new[] { "# comment", "", "*.md", "!README.md", "docs/", "!docs/keep.md" })
        {
            ignore.Add(line);
        }

        Assert.True(ignore.HasExceptions);
        Assert.True(ignore.IsExcluded("CHANGES.md"));
        Assert.False(ignore.IsExcluded("README.md"));
        Assert.True(ignore.IsExcluded("docs/other.txt"));
        Assert.False(ignore.IsExcluded("docs/keep.md"));
        Assert.False(ignore.IsExcluded("src/main.c"));
    }
}
