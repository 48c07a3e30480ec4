using System.Diagnostics;
using System.Security.Cryptography;
using System.Text.RegularExpressions;
using CloudDevEnv.ObjectStorage.Snapshots;
using CloudDevEnv.Runtime;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Xunit.Abstractions;

namespace CloudDevEnv.ObjectStorage.Tests;

/// <summary>The S3 snapshot store against s3rver: round trips, multipart uploads, retention, all-or-nothing saves,
/// an unreachable or dying server, deletion, and keys that must not leave the workspace's prefix.</summary>
[Collection(S3rverCollection.Name)]
public sealed class S3SnapshotStoreTests(S3rverFixture s3, ITestOutputHelper output)
{
    private const int MiB = S3rverFixture.MiB;
    private const int Part = 5 * MiB;
    private static readonly CancellationToken None = CancellationToken.None;

    private static async Task<(string Sha256, long Length, byte[] Bytes)> ReadAllAsync(ISnapshotStore store, SnapshotInfo snapshot, bool keep = true)
    {
        await using var stream = await store.OpenAsync(snapshot, None);
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        using var copy = new MemoryStream();
        var buffer = new byte[81920];
        long length = 0;
        int read;
        while ((read = await stream.ReadAsync(buffer, None)) > 0)
        {
            hash.AppendData(buffer, 0, read);
            length += read;
            if (keep)
            {
                copy.Write(buffer, 0, read);
            }
        }

        return (Convert.ToHexStringLower(hash.GetHashAndReset()), length, copy.ToArray());
    }

    /// <summary>The requests s3rver served for <paramref name="key"/> (its path, any query) since <paramref name="from"/>.</summary>
    private async Task<List<(S3rverRequest Request, Dictionary<string, string> Query)>> RequestsForAsync(string key, int mark) =>
        [.. (await s3.Server.RequestsSinceAsync(mark))
            .Where(r => r.Target.Split('?')[0] == $"/{S3rverFixture.Bucket}/{key}")
            .Select(r => (r, Query(r.Target)))];

    /// <summary>A request on the bucket itself (a listing, a DeleteObjects), not on one of its objects.</summary>
    private static bool IsOnTheBucket(S3rverRequest request) => request.Target.Split('?')[0].TrimEnd('/') == "/" + S3rverFixture.Bucket;

    private static Dictionary<string, string> Query(string target) =>
        target.Contains('?', StringComparison.Ordinal)
            ? target[(target.IndexOf('?', StringComparison.Ordinal) + 1)..].Split('&')
                .Select(p => p.Split('=', 2)).ToDictionary(p => p[0], p => p.Length > 1 ? Uri.UnescapeDataString(p[1]) : "")
            : [];

    [Fact]
    public async Task Save_then_list_then_open_gives_back_the_same_bytes_and_their_sha256()
    {
        var store = s3.Store();
        var workspace = S3rverFixture.NewWorkspaceId();
        var bytes = RandomNumberGenerator.GetBytes(300_000);
        var sha256 = Convert.ToHexStringLower(SHA256.HashData(bytes));
        var before = await s3.Server.MarkAsync();

        var saved = await store.SaveAsync(workspace, new MemoryStream(bytes), None);

        Assert.Equal(sha256, saved.Sha256);
        Assert.Equal(bytes.Length, saved.SizeBytes);
        Assert.Equal(workspace, saved.WorkspaceId);
        Assert.Matches(new Regex($"^snapshots/{workspace}/\\d{{8}}T\\d{{13}}Z-[0-9a-f]{{8}}\\.tar$"), saved.Key);
        Assert.Equal(saved, Assert.Single(await store.ListAsync(workspace, None)));
        Assert.Equal(saved, await store.FindLatestAsync(workspace, None));
        var read = await ReadAllAsync(store, saved);
        Assert.Equal(bytes, read.Bytes);
        Assert.Equal(sha256, read.Sha256);

        // On the server: the object and its sidecar, holding the digest and size; a stream shorter than a part is one PUT.
        Assert.Equal([saved.Key, saved.Key + ".sha256"], (await s3.KeysAsync($"snapshots/{workspace}/")).Order(StringComparer.Ordinal));
        Assert.Equal($"{sha256} {bytes.Length}\n", await s3.ReadTextAsync(saved.Key + ".sha256"));
        var upload = Assert.Single(await RequestsForAsync(saved.Key, before), r => r.Request.Method is "PUT" or "POST");
        Assert.Equal(("PUT", 200), (upload.Request.Method, upload.Request.Status));
        Assert.Empty(upload.Query);
        Assert.Null(await store.FindLatestAsync(S3rverFixture.NewWorkspaceId(), None));
        Assert.Empty(await store.ListAsync(S3rverFixture.NewWorkspaceId(), None));
    }

    [Theory]
    [InlineData(3.5, 4)]
    [InlineData(2.0, 2)]
    [InlineData(1.0, 1)]
    public async Task An_archive_of_several_parts_is_uploaded_part_by_part_and_round_trips(double partsOfFive, int expectedParts)
    {
        var store = s3.Store(o => o.PartSizeBytes = Part);
        var workspace = S3rverFixture.NewWorkspaceId();
        var length = (long)(partsOfFive * Part);
        Dictionary<string, SortedDictionary<int, long>>? onServerAtEnd = null;
        var before = await s3.Server.MarkAsync();
        // When the store finds the end of the stream, what the server holds was uploaded while the stream was still being
        // read, a part at a time: every whole part but the one in the store's buffer (none when the length is a multiple).
        await using var tar = new GeneratedStream(length, onEnd: () => onServerAtEnd = s3.PartsInProgress());

        var saved = await store.SaveAsync(workspace, tar, None);

        Assert.Equal(tar.Sha256, saved.Sha256);
        Assert.Equal(length, saved.SizeBytes);
        var requests = await RequestsForAsync(saved.Key, before);
        var parts = requests.Where(r => r.Request.Method == "PUT" && r.Query.ContainsKey("partNumber")).ToList();
        output.WriteLine($"{length} bytes in parts of {Part}: {string.Join(", ", requests.Select(r => $"{r.Request.Method} {r.Request.Target} {r.Request.Status}"))}");
        Assert.Equal(Enumerable.Range(1, expectedParts), parts.Select(p => int.Parse(p.Query["partNumber"])));
        Assert.All(parts, p => Assert.Equal(200, p.Request.Status));
        var uploadId = Assert.Single(parts.Select(p => p.Query["uploadId"]).Distinct());
        Assert.Single(requests, r => r.Request.Method == "POST" && r.Query.ContainsKey("uploads"));
        Assert.Single(requests, r => r.Request.Method == "POST" && r.Query.GetValueOrDefault("uploadId") == uploadId && r.Request.Status == 200);
        Assert.DoesNotContain(requests, r => r.Request.Method == "PUT" && r.Query.Count == 0);
        Assert.NotNull(onServerAtEnd);
        var whole = (int)(length / Part);
        Assert.Equal(
            Enumerable.Range(1, whole).Select(n => KeyValuePair.Create(n, (long)Part)),
            Assert.Contains(uploadId, onServerAtEnd));

        var read = await ReadAllAsync(store, Assert.Single(await store.ListAsync(workspace, None)), keep: false);
        Assert.Equal((tar.Sha256, length), (read.Sha256, read.Length));
    }

    [Fact]
    public async Task Keep_three_prunes_the_oldest_with_their_sidecars()
    {
        var store = s3.Store(o => o.Keep = 3);
        var workspace = S3rverFixture.NewWorkspaceId();
        var saved = new List<SnapshotInfo>();
        for (var i = 1; i <= 5; i++)
        {
            saved.Add(await store.SaveAsync(workspace, new MemoryStream(System.Text.Encoding.UTF8.GetBytes($"snapshot {i}")), None));
        }

        var kept = await store.ListAsync(workspace, None);
        Assert.Equal(saved.Skip(2), kept);
        Assert.Equal(saved[^1], await store.FindLatestAsync(workspace, None));
        Assert.Equal("snapshot 3", System.Text.Encoding.UTF8.GetString((await ReadAllAsync(store, kept[0])).Bytes));
        Assert.Equal(
            saved.Skip(2).SelectMany(s => new[] { s.Key, s.Key + ".sha256" }).Order(StringComparer.Ordinal),
            (await s3.KeysAsync($"snapshots/{workspace}/")).Order(StringComparer.Ordinal));
    }

    [Theory]
    [InlineData(1 * MiB)]  // inside the first part: nothing was sent
    [InlineData(12 * MiB)] // in the third part: two parts are on the server
    public async Task An_upload_that_fails_midstream_leaves_no_snapshot_no_sidecar_and_the_previous_ones_untouched(int failAt)
    {
        var store = s3.Store(o => o.PartSizeBytes = Part);
        var workspace = S3rverFixture.NewWorkspaceId();
        var small = await store.SaveAsync(workspace, new MemoryStream([1, 2, 3]), None);
        await using var big = new GeneratedStream(7 * MiB);
        var multipart = await store.SaveAsync(workspace, big, None);
        var keysBefore = (await s3.KeysAsync($"snapshots/{workspace}/")).Order(StringComparer.Ordinal).ToList();
        var before = await s3.Server.MarkAsync();

        var failure = await Assert.ThrowsAsync<IOException>(() => store.SaveAsync(workspace, new GeneratedStream(20 * MiB, failAt: failAt), None));

        // The tar's own failure is passed on as it is; the store's leftovers are gone and nothing new is listed.
        Assert.Contains("The archive stream broke", failure.Message, StringComparison.Ordinal);
        Assert.Equal([small, multipart], await store.ListAsync(workspace, None));
        Assert.Equal(multipart, await store.FindLatestAsync(workspace, None));
        Assert.Equal(keysBefore, (await s3.KeysAsync($"snapshots/{workspace}/")).Order(StringComparer.Ordinal));
        var smallRead = await ReadAllAsync(store, small);
        Assert.Equal([1, 2, 3], smallRead.Bytes);
        Assert.Equal(small.Sha256, smallRead.Sha256);
        Assert.Equal(big.Sha256, (await ReadAllAsync(store, multipart, keep: false)).Sha256);

        var requests = (await s3.Server.RequestsSinceAsync(before)).Where(r => r.Target.StartsWith($"/{S3rverFixture.Bucket}/snapshots/{workspace}/", StringComparison.Ordinal)).ToList();
        output.WriteLine(string.Join("\n", requests));
        if (failAt < Part)
        {
            Assert.DoesNotContain(requests, r => r.Method is "PUT" or "POST");
        }
        else
        {
            // Two parts went up, the upload was never completed, and the store asked for it to be aborted (s3rver 3.7.1
            // does not implement AbortMultipartUpload and answers 405: real S3 and MinIO drop the parts).
            var initiated = Assert.Single(requests, r => r.Method == "POST" && Query(r.Target).ContainsKey("uploads"));
            var parts = requests.Where(r => r.Method == "PUT" && Query(r.Target).ContainsKey("partNumber")).ToList();
            Assert.Equal(["1", "2"], parts.Select(p => Query(p.Target)["partNumber"]));
            var uploadId = Query(parts[0].Target)["uploadId"];
            Assert.DoesNotContain(requests, r => r.Method == "POST" && Query(r.Target).ContainsKey("uploadId"));
            Assert.Single(requests, r => r.Method == "DELETE" && Query(r.Target).GetValueOrDefault("uploadId") == uploadId);
            Assert.NotNull(initiated);
        }
    }

    [Fact]
    public async Task A_permanent_failure_of_the_tar_stream_is_passed_on_as_it_is()
    {
        var store = s3.Store(o => o.PartSizeBytes = Part);
        var workspace = S3rverFixture.NewWorkspaceId();
        var tooLarge = new WorkspaceRuntimeException("/workspaces and /home hold more than 8 MiB", isPermanent: true);

        var thrown = await Assert.ThrowsAsync<WorkspaceRuntimeException>(
            () => store.SaveAsync(workspace, new GeneratedStream(20 * MiB, failAt: 8 * MiB, failure: () => tooLarge), None));

        Assert.Same(tooLarge, thrown);
        Assert.Empty(await store.ListAsync(workspace, None));
        Assert.Empty(await s3.KeysAsync($"snapshots/{workspace}/"));
    }

    [Fact]
    public async Task A_save_cancelled_midway_throws_operation_cancelled_and_leaves_nothing_listed()
    {
        var store = s3.Store(o => o.PartSizeBytes = Part);
        var workspace = S3rverFixture.NewWorkspaceId();
        using var cancel = new CancellationTokenSource();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => store.SaveAsync(
            workspace, new GeneratedStream(20 * MiB, onProgress: read => { if (read >= 11 * MiB) cancel.Cancel(); }), cancel.Token));

        Assert.Empty(await store.ListAsync(workspace, None));
        Assert.Empty(await s3.KeysAsync($"snapshots/{workspace}/"));
    }

    [Fact]
    public async Task A_server_that_is_down_fails_every_call_transiently_naming_the_endpoint()
    {
        var port = CloudDevEnv.Api.Tests.FreePorts.Take(1)[0];
        var url = $"http://127.0.0.1:{port}";
        var store = s3.Store(serviceUrl: url);
        var workspace = S3rverFixture.NewWorkspaceId();
        var clock = Stopwatch.StartNew();

        var save = await Assert.ThrowsAsync<WorkspaceRuntimeException>(() => store.SaveAsync(workspace, new MemoryStream([1, 2, 3]), None));
        var multipart = await Assert.ThrowsAsync<WorkspaceRuntimeException>(() => store.SaveAsync(workspace, new GeneratedStream(6 * MiB), None));
        output.WriteLine($"{save.Message}\n{multipart.Message}\n(both in {clock.ElapsedMilliseconds} ms, the SDK's retries included)");

        foreach (var failure in new[] { save, multipart })
        {
            Assert.False(failure.IsPermanent);
            Assert.StartsWith($"Storing the snapshot of {workspace} in s3 bucket {S3rverFixture.Bucket} at {url} failed while ", failure.Message, StringComparison.Ordinal);
        }

        Assert.Contains("uploading the object", save.Message, StringComparison.Ordinal);
        Assert.Contains("starting the multipart upload", multipart.Message, StringComparison.Ordinal);
        foreach (var call in new Func<Task>[]
                 {
                     () => store.ListAsync(workspace, None), () => store.FindLatestAsync(workspace, None), () => store.DeleteAllAsync(workspace, None),
                     () => store.OpenAsync(new SnapshotInfo(workspace, $"snapshots/{workspace}/20250101T0000000000000Z-00000000.tar", DateTimeOffset.UnixEpoch, 1), None),
                 })
        {
            var failure = await Assert.ThrowsAsync<WorkspaceRuntimeException>(call);
            Assert.False(failure.IsPermanent);
            Assert.Contains($"s3 bucket {S3rverFixture.Bucket} at {url}", failure.Message, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task A_server_that_dies_mid_upload_fails_the_save_transiently_and_after_its_restart_only_the_earlier_snapshot_is_listed()
    {
        var folder = Directory.CreateTempSubdirectory("cde-s3rver-dying-").FullName;
        var port = CloudDevEnv.Api.Tests.FreePorts.Take(1)[0];
        S3rverProcess? server = null;
        try
        {
            server = await S3rverProcess.StartAsync(folder, port, S3rverFixture.Bucket);
            var dying = server;
            var store = s3.Store(o => o.PartSizeBytes = Part, serviceUrl: server.ServiceUrl);
            var workspace = S3rverFixture.NewWorkspaceId();
            var earlier = await store.SaveAsync(workspace, new MemoryStream([4, 5, 6]), None);

            var failure = await Assert.ThrowsAsync<WorkspaceRuntimeException>(() => store.SaveAsync(
                workspace,
                new GeneratedStream(30 * MiB, onProgress: read =>
                {
                    if (read >= 12 * MiB && !dying.HasExited)
                    {
                        // Two parts are up; the server is killed before the third.
                        dying.StopAsync().GetAwaiter().GetResult();
                    }
                }),
                None));
            output.WriteLine(failure.Message);
            Assert.False(failure.IsPermanent);
            Assert.StartsWith($"Storing the snapshot of {workspace} in s3 bucket {S3rverFixture.Bucket} at {server.ServiceUrl} failed while uploading part 3: ", failure.Message, StringComparison.Ordinal);
            await server.DisposeAsync();

            server = await S3rverProcess.StartAsync(folder, port);
            Assert.Equal([earlier], await store.ListAsync(workspace, None));
            Assert.Equal([4, 5, 6], (await ReadAllAsync(store, earlier)).Bytes);
        }
        finally
        {
            if (server is not null)
            {
                await server.DisposeAsync();
            }

            Directory.Delete(folder, recursive: true);
        }
    }

    [Fact]
    public async Task An_object_without_its_sidecar_is_not_listed_nor_a_sidecar_without_its_object_and_the_next_save_removes_both()
    {
        var store = s3.Store();
        var workspace = S3rverFixture.NewWorkspaceId();
        var good = await store.SaveAsync(workspace, new MemoryStream([7, 7, 7]), None);
        var folder = $"snapshots/{workspace}/";
        // Later than any save of the store's clock: were they listed, they would be the latest.
        var objectAlone = folder + "20990101T0000000000000Z-0000000a.tar";
        var sidecarAlone = folder + "20990101T0000000000000Z-0000000b.tar.sha256";
        var mismatched = folder + "20990101T0000000000000Z-0000000c.tar";
        await s3.PutTextAsync(objectAlone, "a half upload");
        await s3.PutTextAsync(sidecarAlone, $"{good.Sha256} 3\n");
        await s3.PutTextAsync(mismatched, "twelve bytes");
        await s3.PutTextAsync(mismatched + ".sha256", $"{good.Sha256} 3\n");

        Assert.Equal([good], await store.ListAsync(workspace, None));
        Assert.Equal(good, await store.FindLatestAsync(workspace, None));

        var next = await store.SaveAsync(workspace, new MemoryStream([8]), None);
        var keys = await s3.KeysAsync(folder);
        Assert.DoesNotContain(objectAlone, keys);
        Assert.DoesNotContain(sidecarAlone, keys);
        Assert.Equal([good, next], await store.ListAsync(workspace, None));
    }

    [Fact]
    public async Task Delete_all_removes_every_object_of_the_workspace_in_pages_and_leaves_the_other_workspaces()
    {
        var store = s3.Store(o => o.Keep = 5, pageSize: 2);
        var workspace = S3rverFixture.NewWorkspaceId();
        var sharingItsStart = workspace + "x"; // a prefix match without the '/' would take this one too
        var other = S3rverFixture.NewWorkspaceId();
        for (var i = 0; i < 4; i++)
        {
            await store.SaveAsync(workspace, new MemoryStream([(byte)i]), None);
        }

        await s3.PutTextAsync($"snapshots/{workspace}/20990101T000000000000Z-0000000a.tar", "left by a crash");
        var kept1 = await store.SaveAsync(sharingItsStart, new MemoryStream([1]), None);
        var kept2 = await store.SaveAsync(other, new MemoryStream([2]), None);
        Assert.Equal(9, (await s3.KeysAsync($"snapshots/{workspace}/")).Count);
        var before = await s3.Server.MarkAsync();

        await store.DeleteAllAsync(workspace, None);
        await store.DeleteAllAsync(S3rverFixture.NewWorkspaceId(), None);

        Assert.Empty(await s3.KeysAsync($"snapshots/{workspace}/"));
        Assert.Empty(await store.ListAsync(workspace, None));
        Assert.Null(await store.FindLatestAsync(workspace, None));
        Assert.Equal([kept1], await store.ListAsync(sharingItsStart, None));
        Assert.Equal([kept2], await store.ListAsync(other, None));
        // 9 keys, 2 a page: five listings and five DeleteObjects batches.
        var deletes = (await s3.Server.RequestsSinceAsync(before)).Count(r => r.Method == "POST" && IsOnTheBucket(r) && Query(r.Target).ContainsKey("delete"));
        Assert.Equal(5, deletes);
    }

    [Fact]
    public async Task Listing_pages_through_every_key_and_gives_the_snapshots_oldest_first()
    {
        var store = s3.Store(o => o.Keep = 10, pageSize: 3);
        var workspace = S3rverFixture.NewWorkspaceId();
        var saved = new List<SnapshotInfo>();
        for (var i = 0; i < 7; i++)
        {
            saved.Add(await store.SaveAsync(workspace, new MemoryStream([(byte)i]), None));
        }

        var before = await s3.Server.MarkAsync();
        var listed = await store.ListAsync(workspace, None);

        Assert.Equal(saved, listed);
        Assert.Equal(saved.OrderBy(s => s.TakenAt), listed);
        Assert.Equal(5, (await s3.Server.RequestsSinceAsync(before)).Count(r => r.Method == "GET" && IsOnTheBucket(r) && Query(r.Target).GetValueOrDefault("list-type") == "2"));
    }

    [Fact]
    public async Task Ids_and_keys_that_would_leave_the_workspace_prefix_are_refused_before_any_request()
    {
        var store = s3.Store();
        var workspace = S3rverFixture.NewWorkspaceId();
        var victim = S3rverFixture.NewWorkspaceId();
        var theirs = await store.SaveAsync(victim, new MemoryStream([9]), None);
        var before = await s3.Server.MarkAsync();

        foreach (var id in new[] { "", " ", "a/b", "..", "../" + victim, "a\\b", "ws\n1" })
        {
            await Assert.ThrowsAsync<ArgumentException>(() => store.SaveAsync(id, new MemoryStream([1]), None));
            await Assert.ThrowsAsync<ArgumentException>(() => store.ListAsync(id, None));
            await Assert.ThrowsAsync<ArgumentException>(() => store.FindLatestAsync(id, None));
            await Assert.ThrowsAsync<ArgumentException>(() => store.DeleteAllAsync(id, None));
        }

        foreach (var key in new[]
                 {
                     theirs.Key, // another workspace's snapshot, asked for as this one's
                     $"snapshots/{workspace}/../{victim}/{theirs.Key.Split('/')[^1]}",
                     $"snapshots/{workspace}/x/y.tar",
                     $"snapshots/{workspace}/{theirs.Key.Split('/')[^1]}.sha256",
                     $"snapshots/{workspace}/.tar",
                     "other/" + theirs.Key,
                 })
        {
            await Assert.ThrowsAsync<ArgumentException>(() => store.OpenAsync(theirs with { WorkspaceId = workspace, Key = key }, None));
        }

        Assert.Empty(await s3.Server.RequestsSinceAsync(before));
        Assert.Equal([theirs], await store.ListAsync(victim, None));
    }

    [Fact]
    public async Task A_missing_bucket_fails_the_save_naming_it_and_with_create_bucket_the_host_makes_it_at_start_up()
    {
        var bucket = "created-" + Guid.NewGuid().ToString("N")[..8];
        var workspace = S3rverFixture.NewWorkspaceId();
        var missing = s3.Store(o => o.Bucket = bucket);
        var failure = await Assert.ThrowsAsync<WorkspaceRuntimeException>(() => missing.SaveAsync(workspace, new MemoryStream([1]), None));
        output.WriteLine(failure.Message);
        Assert.False(failure.IsPermanent);
        Assert.Contains($"s3 bucket {bucket} at {s3.Server.ServiceUrl}", failure.Message, StringComparison.Ordinal);
        Assert.Contains("NoSuchBucket", failure.Message, StringComparison.Ordinal);

        var builder = Microsoft.Extensions.Hosting.Host.CreateApplicationBuilder();
        builder.Logging.ClearProviders();
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Snapshots:S3:ServiceUrl"] = s3.Server.ServiceUrl,
            ["Snapshots:S3:Bucket"] = bucket,
            ["Snapshots:S3:AccessKey"] = S3rverProcess.AccessKey,
            ["Snapshots:S3:SecretKey"] = S3rverProcess.SecretKey,
            ["Snapshots:S3:CreateBucket"] = "true",
        });
        builder.Services.AddS3SnapshotStore(builder.Configuration);
        using var host = builder.Build();
        await host.StartAsync();
        try
        {
            var store = host.Services.GetRequiredService<ISnapshotStore>();
            var saved = await store.SaveAsync(workspace, new MemoryStream([1, 2]), None);
            Assert.Equal([saved], await store.ListAsync(workspace, None));
            Assert.True(Directory.Exists(Path.Combine(s3.Server.Directory, bucket)));
        }
        finally
        {
            await host.StopAsync();
        }
    }
}
