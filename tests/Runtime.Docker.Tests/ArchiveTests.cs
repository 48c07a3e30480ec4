using System.Formats.Tar;

namespace CloudDevEnv.Runtime.Docker.Tests;

[Collection(DockerCollection.Name)]
public sealed class ArchiveTests(DockerFixture fx, ITestOutputHelper output)
{
    [Fact]
    public async Task Archive_and_restore_round_trip_into_a_fresh_stopped_workspace()
    {
        var source = fx.NewWorkspaceId("snap");
        var target = fx.NewWorkspaceId("restore");
        try
        {
            await fx.Runtime.CreateAsync(fx.Spec(source), default);
            await fx.Runtime.StartAsync(source, default);
            var write = await fx.Runtime.ExecAsync(source, new ExecRequest(["sh", "-c",
                "mkdir -p /workspaces/repo/src && echo 'int main;' > /workspaces/repo/src/main.c && " +
                "printf 'binary\\000data' > /workspaces/repo/blob && ln -s src/main.c /workspaces/repo/link && chmod 0750 /workspaces/repo/src"],
                User: WorkspaceImages.WorkspaceUser), new LineCollector(output), default);
            Assert.Equal(0, write.ExitCode);

            // Snapshot at stop: the archive API works on a stopped container.
            await fx.Runtime.StopAsync(source, TimeSpan.FromSeconds(2), default);
            var snapshot = new MemoryStream();
            await using (var archive = await fx.Runtime.ArchiveAsync(source, "/workspaces", default))
            {
                await archive.CopyToAsync(snapshot);
            }

            snapshot.Position = 0;
            var names = new List<string>();
            using (var reader = new TarReader(snapshot, leaveOpen: true))
            {
                while (reader.GetNextEntry() is { } entry)
                {
                    names.Add(entry.Name);
                }
            }

            output.WriteLine(string.Join(" ", names));

            // The stream serves synchronous readers too (TarReader reading it directly).
            await using (var direct = await fx.Runtime.ArchiveAsync(source, "/workspaces/repo", default))
            using (var reader = new TarReader(direct))
            {
                var entry = reader.GetNextEntry();
                Assert.NotNull(entry);
                Assert.Equal("./", entry.Name);
            }

            Assert.Contains("./repo/src/main.c", names);
            Assert.Contains("./repo/link", names);

            // Restore into a fresh workspace that was never started.
            await fx.Runtime.CreateAsync(fx.Spec(target), default);
            snapshot.Position = 0;
            await fx.Runtime.RestoreAsync(target, "/workspaces", snapshot, default);
            await fx.Runtime.StartAsync(target, default);
            var check = await fx.Runtime.ExecAsync(target, new ExecRequest(["sh", "-c",
                "cat /workspaces/repo/src/main.c; od -c /workspaces/repo/blob | head -1; readlink /workspaces/repo/link; " +
                "stat -c '%U %a' /workspaces/repo/src /workspaces/repo/src/main.c"]), new LineCollector(output), default);
            Assert.Equal(0, check.ExitCode);
            var lines = check.OutputTail.Split('\n');
            Assert.Equal("int main;", lines[0]);
            Assert.Contains(@"\0", lines[1]);
            Assert.Equal("src/main.c", lines[2]);
            Assert.Equal($"{WorkspaceImages.WorkspaceUser} 750", lines[3]);
            Assert.StartsWith(WorkspaceImages.WorkspaceUser + " ", lines[4]);

            // Restoring into a running workspace, into a folder that does not exist yet, works too.
            snapshot.Position = 0;
            await fx.Runtime.RestoreAsync(target, "/tmp/elsewhere", snapshot, default);
            var elsewhere = await fx.Runtime.ExecAsync(target, new ExecRequest(["cat", "/tmp/elsewhere/repo/src/main.c"]), new LineCollector(), default);
            Assert.Equal("int main;", elsewhere.OutputTail);

            // A path that does not exist: a permanent error.
            var missing = await Assert.ThrowsAsync<WorkspaceRuntimeException>(() => fx.Runtime.ArchiveAsync(target, "/no/such/path", default));
            Assert.True(missing.IsPermanent);
        }
        finally
        {
            await fx.Runtime.DeleteAsync(source, default);
            await fx.Runtime.DeleteAsync(target, default);
        }
    }
}
