using CloudDevEnv.ObjectStorage.Snapshots;
using CloudDevEnv.Runtime;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace CloudDevEnv.ObjectStorage.Tests;

/// <summary>The options of <c>Snapshots:S3</c>: defaults, and start-up validation whose every failure names its key.</summary>
public sealed class S3SnapshotOptionsTests
{
    private static readonly Dictionary<string, string?> Valid = new()
    {
        ["Snapshots:S3:ServiceUrl"] = "http://127.0.0.1:9",
        ["Snapshots:S3:Bucket"] = "snapshots",
        ["Snapshots:S3:AccessKey"] = "key",
        ["Snapshots:S3:SecretKey"] = "secret",
    };

    private static IHost Host(IDictionary<string, string?> settings)
    {
        var builder = Microsoft.Extensions.Hosting.Host.CreateApplicationBuilder();
        builder.Logging.ClearProviders();
        builder.Configuration.Sources.Clear();
        builder.Configuration.AddInMemoryCollection(settings);
        builder.Services.AddS3SnapshotStore(builder.Configuration);
        return builder.Build();
    }

    private static Dictionary<string, string?> With(string key, string? value) => new(Valid) { [$"Snapshots:S3:{key}"] = value };

    [Fact]
    public async Task A_host_without_the_section_fails_to_start_naming_every_missing_key()
    {
        using var host = Host(new Dictionary<string, string?>());

        var failure = await Assert.ThrowsAsync<OptionsValidationException>(() => host.StartAsync());

        Assert.Equal(
            ["Snapshots:S3:AccessKey is required.", "Snapshots:S3:Bucket is required.", "Snapshots:S3:SecretKey is required.", "Snapshots:S3:ServiceUrl is required."],
            failure.Failures.Order(StringComparer.Ordinal));
    }

    [Theory]
    [InlineData("ServiceUrl", "ftp://storage:21", "Snapshots:S3:ServiceUrl 'ftp://storage:21' must be an absolute http:// or https:// URL.")]
    [InlineData("ServiceUrl", "storage:9000", "Snapshots:S3:ServiceUrl 'storage:9000' must be an absolute http:// or https:// URL.")]
    [InlineData("ServiceUrl", "/relative", "Snapshots:S3:ServiceUrl '/relative' must be an absolute http:// or https:// URL.")]
    [InlineData("ServiceUrl", " ", "Snapshots:S3:ServiceUrl is required.")]
    [InlineData("Bucket", "Snapshots_Bucket", "Snapshots:S3:Bucket 'Snapshots_Bucket' is not a bucket name")]
    [InlineData("Bucket", "ab", "Snapshots:S3:Bucket 'ab' is not a bucket name")]
    [InlineData("SecretKey", "", "Snapshots:S3:SecretKey is required.")]
    [InlineData("AccessKey", "  ", "Snapshots:S3:AccessKey is required.")]
    [InlineData("Region", "", "Snapshots:S3:Region is required.")]
    [InlineData("Prefix", "snapshots", "Snapshots:S3:Prefix 'snapshots' must be empty or end with '/'")]
    [InlineData("Prefix", "/snapshots/", "Snapshots:S3:Prefix '/snapshots/' must be empty or end with '/'")]
    [InlineData("Prefix", "a/../b/", "Snapshots:S3:Prefix 'a/../b/' must be empty or end with '/'")]
    [InlineData("PartSizeBytes", "5242879", "Snapshots:S3:PartSizeBytes must be between 5242880 (5 MiB, S3's smallest part) and 536870912 (512 MiB).")]
    [InlineData("PartSizeBytes", "536870913", "Snapshots:S3:PartSizeBytes must be between 5242880 (5 MiB, S3's smallest part) and 536870912 (512 MiB).")]
    [InlineData("Keep", "0", "Snapshots:S3:Keep must be between 1 and 100.")]
    [InlineData("Keep", "101", "Snapshots:S3:Keep must be between 1 and 100.")]
    public async Task A_bad_value_fails_the_start_naming_its_key(string key, string value, string message)
    {
        using var host = Host(With(key, value));

        var failure = await Assert.ThrowsAsync<OptionsValidationException>(() => host.StartAsync());

        Assert.StartsWith(message, Assert.Single(failure.Failures), StringComparison.Ordinal);
    }

    [Fact]
    public void The_defaults_are_those_documented_and_a_valid_section_registers_the_store()
    {
        var defaults = new S3SnapshotOptions();
        Assert.Equal(
            ("snapshots/", "us-east-1", true, 16 * 1024 * 1024, 3, false),
            (defaults.Prefix, defaults.Region, defaults.ForcePathStyle, defaults.PartSizeBytes, defaults.Keep, defaults.CreateBucket));

        using var host = Host(With("Prefix", ""));
        var options = host.Services.GetRequiredService<IOptions<S3SnapshotOptions>>().Value;
        Assert.Equal("", options.Prefix);
        Assert.Equal(16 * 1024 * 1024, options.PartSizeBytes);
        var store = host.Services.GetRequiredService<ISnapshotStore>();
        Assert.IsType<S3SnapshotStore>(store);
        Assert.Same(store, host.Services.GetRequiredService<ISnapshotStore>());
        Assert.Equal("ws-1/", ((S3SnapshotStore)store).FolderOf("ws-1"));
    }

    [Theory]
    [InlineData("https://s3.eu-west-1.amazonaws.com")]
    [InlineData("http://minio.storage.svc:9000")]
    [InlineData("http://127.0.0.1:9000/")]
    public void Http_and_https_urls_pass(string url)
    {
        var options = new S3SnapshotOptions { ServiceUrl = url, Bucket = "my.snapshots-1", AccessKey = "a", SecretKey = "s" };
        Assert.True(new S3SnapshotOptionsValidator().Validate(null, options).Succeeded);
    }
}
