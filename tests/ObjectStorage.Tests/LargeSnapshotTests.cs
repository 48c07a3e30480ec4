using System.Diagnostics;
using System.Globalization;
using System.Security.Cryptography;
using CloudDevEnv.ObjectStorage.Snapshots;
using Xunit.Abstractions;

namespace CloudDevEnv.ObjectStorage.Tests;

/// <summary>A gigabyte, streamed: memory stays flat whatever the size of the snapshot.</summary>
[Collection(S3rverCollection.Name)]
public sealed class LargeSnapshotTests(S3rverFixture s3, ITestOutputHelper output)
{
    private const long MiB = S3rverFixture.MiB;

    // The full 1 GiB at the default part size (16 MiB): on the 2-core machine the save takes 16-25 s (~60 MB/s; s3rver
    // writes every part to disk, then spends ~6 s copying the parts into the object) and the read-back ~7 s, so the
    // test stays under 35 s and needs no smaller size.
    private const long Size = 1024 * MiB;

    [Fact]
    public async Task A_one_gigabyte_save_streams_in_parts_with_the_managed_heap_staying_flat()
    {
        var partSize = new S3SnapshotOptions().PartSizeBytes;
        var store = s3.Store(o => o.PartSizeBytes = partSize);
        var workspace = S3rverFixture.NewWorkspaceId();
        var requestsBefore = await s3.Server.MarkAsync();
        GC.Collect();
        GC.WaitForPendingFinalizers();
        GC.Collect();
        var baselineHeap = GC.GetTotalMemory(forceFullCollection: true);
        using var self = Process.GetCurrentProcess();
        self.Refresh();
        var baselineWorkingSet = self.WorkingSet64;
        var allocatedBefore = GC.GetTotalAllocatedBytes(precise: true);
        long peakHeap = 0, peakWorkingSet = 0, samples = 0;
        using var stop = new CancellationTokenSource();
        var sampler = Task.Run(async () =>
        {
            while (!stop.IsCancellationRequested)
            {
                peakHeap = Math.Max(peakHeap, GC.GetTotalMemory(forceFullCollection: false));
                self.Refresh();
                peakWorkingSet = Math.Max(peakWorkingSet, self.WorkingSet64);
                samples++;
                await Task.Delay(10);
            }
        });

        await using var tar = new GeneratedStream(Size);
        var clock = Stopwatch.StartNew();
        var saved = await store.SaveAsync(workspace, tar, CancellationToken.None);
        var saveTime = clock.Elapsed;
        await stop.CancelAsync();
        await sampler;
        var allocated = GC.GetTotalAllocatedBytes(precise: true) - allocatedBefore;
        var gcInfo = GC.GetGCMemoryInfo(GCKind.Any);

        clock.Restart();
        await using (var read = await store.OpenAsync(saved, CancellationToken.None))
        {
            var digest = await SHA256.HashDataAsync(read);
            Assert.Equal(tar.Sha256, Convert.ToHexStringLower(digest));
        }

        var readTime = clock.Elapsed;
        var served = (await s3.Server.RequestsSinceAsync(requestsBefore)).Where(r => r.Target.Contains(saved.Key, StringComparison.Ordinal)).ToList();
        var partsServed = served.Where(r => r.Method == "PUT" && r.Target.Contains("partNumber=", StringComparison.Ordinal)).ToList();
        var completion = served.Single(r => r.Method == "POST" && r.Target.Contains("?uploadId=", StringComparison.Ordinal));
        var limit = 4 * partSize + 64 * MiB;
        output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"""
            size {Size / MiB} MiB, part size {partSize / MiB} MiB ({(Size + partSize - 1) / partSize} parts)
            save {saveTime.TotalSeconds:F1} s = {Size / MiB / saveTime.TotalSeconds:F0} MB/s; read back and hashed {readTime.TotalSeconds:F1} s = {Size / MiB / readTime.TotalSeconds:F0} MB/s
            managed heap: baseline {baselineHeap / (double)MiB:F1} MiB, peak {peakHeap / (double)MiB:F1} MiB over {samples} samples (limit {limit / MiB} MiB)
            working set: baseline {baselineWorkingSet / (double)MiB:F1} MiB, peak {peakWorkingSet / (double)MiB:F1} MiB (growth {(peakWorkingSet - baselineWorkingSet) / (double)MiB:F1} MiB)
            s3rver: {partsServed.Count} parts, {partsServed.Sum(r => r.Milliseconds) / 1000.0:F1} s serving them; {completion.Milliseconds / 1000.0:F1} s completing the upload (it copies the parts into the object)
            allocated during the save {allocated / (double)MiB:F0} MiB (garbage collected along the way; {GC.CollectionCount(0)} gen0, {GC.CollectionCount(1)} gen1, {GC.CollectionCount(2)} gen2 collections in this process), last GC's heap {gcInfo.HeapSizeBytes / (double)MiB:F1} MiB
            """));

        Assert.Equal(Size, saved.SizeBytes);
        Assert.Equal((int)((Size + partSize - 1) / partSize), partsServed.Count);
        Assert.Equal(tar.Sha256, saved.Sha256);
        Assert.True(peakHeap < limit, $"The managed heap peaked at {peakHeap / MiB} MiB, over {limit / MiB} MiB.");
        Assert.True(peakWorkingSet - baselineWorkingSet < limit, $"The working set grew by {(peakWorkingSet - baselineWorkingSet) / MiB} MiB, over {limit / MiB} MiB.");
        await store.DeleteAllAsync(workspace, CancellationToken.None);
    }
}
