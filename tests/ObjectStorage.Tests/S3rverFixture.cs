using Amazon.Runtime;
using Amazon.S3;
using Amazon.S3.Model;
using CloudDevEnv.ObjectStorage.Snapshots;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;

namespace CloudDevEnv.ObjectStorage.Tests;

/// <summary>One s3rver for the tests of the collection, with the bucket <see cref="Bucket"/>, on a free loopback port
/// and a temporary folder that is removed at the end. Each test works in workspaces of its own.</summary>
public sealed class S3rverFixture : IAsyncLifetime
{
    public const string Bucket = "snapshots-test";

    public const int MiB = 1024 * 1024;

    private readonly string _root = Directory.CreateTempSubdirectory("cde-s3rver-").FullName;

    public S3rverProcess Server { get; private set; } = null!;

    /// <summary>A plain client of the same server, for the tests to look at (and tamper with) what is stored.</summary>
    public AmazonS3Client Client { get; private set; } = null!;

    /// <summary>Where s3rver keeps the parts of multipart uploads in progress: <c>&lt;uploadId&gt;/&lt;part number&gt;</c>.</summary>
    public string UploadsFolder => Path.Combine(Server.Directory, Bucket, "._S3rver_uploads");

    public async Task InitializeAsync()
    {
        Server = await S3rverProcess.StartAsync(Path.Combine(_root, "data"), CloudDevEnv.Api.Tests.FreePorts.Take(1)[0], Bucket);
        Client = NewClient(Server.ServiceUrl);
    }

    public async Task DisposeAsync()
    {
        Client?.Dispose();
        if (Server is not null)
        {
            await Server.DisposeAsync();
        }

        try
        {
            Directory.Delete(_root, recursive: true);
        }
        catch (IOException)
        {
            // The killed server may still be closing a file; the OS cleans temp eventually.
        }
    }

    public static AmazonS3Client NewClient(string serviceUrl) => new(
        new BasicAWSCredentials(S3rverProcess.AccessKey, S3rverProcess.SecretKey),
        new AmazonS3Config
        {
            ServiceURL = serviceUrl,
            ForcePathStyle = true,
            AuthenticationRegion = "us-east-1",
            RequestChecksumCalculation = RequestChecksumCalculation.WHEN_REQUIRED,
            ResponseChecksumValidation = ResponseChecksumValidation.WHEN_REQUIRED,
        });

    public static string NewWorkspaceId() => "ws-" + Guid.NewGuid().ToString("N")[..12];

    public S3SnapshotOptions Options(Action<S3SnapshotOptions>? change = null, string? serviceUrl = null)
    {
        var options = new S3SnapshotOptions
        {
            ServiceUrl = serviceUrl ?? Server.ServiceUrl,
            Bucket = Bucket,
            AccessKey = S3rverProcess.AccessKey,
            SecretKey = S3rverProcess.SecretKey,
            PartSizeBytes = S3SnapshotOptions.MinPartSizeBytes,
        };
        change?.Invoke(options);
        var validation = new S3SnapshotOptionsValidator().Validate(null, options);
        Assert.True(validation.Succeeded, validation.FailureMessage);
        return options;
    }

    /// <summary>A store on this server (or <paramref name="serviceUrl"/>), with 5 MiB parts unless changed, and a clock
    /// that moves on a second at every reading, so that each save's key is later than the one before.</summary>
    public S3SnapshotStore Store(Action<S3SnapshotOptions>? change = null, string? serviceUrl = null, int pageSize = 1000) =>
        new(Microsoft.Extensions.Options.Options.Create(Options(change, serviceUrl)), new FakeTimeProvider { AutoAdvanceAmount = TimeSpan.FromSeconds(1) }, NullLogger<S3SnapshotStore>.Instance)
        {
            PageSize = pageSize,
        };

    /// <summary>Every key the server holds under <paramref name="prefix"/>, as it lists them.</summary>
    public async Task<List<string>> KeysAsync(string prefix)
    {
        var keys = new List<string>();
        string? continuation = null;
        do
        {
            var page = await Client.ListObjectsV2Async(new ListObjectsV2Request { BucketName = Bucket, Prefix = prefix, ContinuationToken = continuation });
            keys.AddRange((page.S3Objects ?? []).Select(o => o.Key));
            continuation = page.IsTruncated == true ? page.NextContinuationToken : null;
        }
        while (continuation is not null);

        return keys;
    }

    public async Task<string> ReadTextAsync(string key)
    {
        using var response = await Client.GetObjectAsync(Bucket, key);
        using var reader = new StreamReader(response.ResponseStream);
        return await reader.ReadToEndAsync();
    }

    public Task PutTextAsync(string key, string text) =>
        Client.PutObjectAsync(new PutObjectRequest { BucketName = Bucket, Key = key, ContentBody = text, UseChunkEncoding = false });

    /// <summary>The parts of uploads in progress that s3rver holds now: part number → size, per upload.</summary>
    public Dictionary<string, SortedDictionary<int, long>> PartsInProgress()
    {
        var uploads = new Dictionary<string, SortedDictionary<int, long>>();
        if (!Directory.Exists(UploadsFolder))
        {
            return uploads;
        }

        foreach (var upload in Directory.EnumerateDirectories(UploadsFolder))
        {
            var parts = new SortedDictionary<int, long>();
            foreach (var file in Directory.EnumerateFiles(upload))
            {
                if (int.TryParse(Path.GetFileName(file), out var number))
                {
                    parts[number] = new FileInfo(file).Length;
                }
            }

            uploads[Path.GetFileName(upload)] = parts;
        }

        return uploads;
    }
}

[CollectionDefinition(Name)]
public sealed class S3rverCollection : ICollectionFixture<S3rverFixture>
{
    public const string Name = nameof(S3rverCollection);
}
