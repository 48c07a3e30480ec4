using System.Text;
using CloudDevEnv.Runtime.Docker;

namespace CloudDevEnv.Runtime.Kubernetes.Tests;

[Collection(StandInCollection.Name)]
public sealed class LifecycleTests(StandInFixture f)
{
    private static readonly IProgress<string> Quiet = new InlineProgress<string>(_ => { });

    [Fact]
    public async Task A_workspace_is_a_pod_whose_gateway_answers_and_whose_files_survive_stop_and_start()
    {
        var id = f.NewWorkspaceId("life");
        var runtime = f.Runtime;
        try
        {
            var created = await runtime.CreateAsync(f.Spec(id, StandInFixture.Gateway), default);
            Assert.Equal(InstanceState.Created, created.State);
            Assert.Null(f.Api.Pod(StandInFixture.Namespace, $"cde-{id}"));

            await runtime.StartAsync(id, default);
            var running = await runtime.InspectAsync(id, default);
            Assert.Equal(InstanceState.Running, running!.State);
            Assert.Equal(StandInFixture.Owner, running.Owner);
            Assert.Equal("127.0.0.1", running.Gateway!.Host);

            // The gateway lets through only requests with the workspace's secret. It starts with the pod and listens a
            // moment later, as on Docker (the grain waits for the IDE behind it).
            using var http = new HttpClient();
            HttpResponseMessage? refused = null;
            for (var deadline = DateTime.UtcNow.AddSeconds(15); refused is null; await Task.Delay(100))
            {
                try
                {
                    refused = await http.GetAsync(new Uri(running.Gateway, "/"));
                }
                catch (HttpRequestException) when (DateTime.UtcNow < deadline)
                {
                }
            }

            Assert.True((int)refused.StatusCode is 401 or 403, $"without the secret: {(int)refused.StatusCode}");

            // Execs run as the user they name, in their folder, with their variables; the spec's variables are the pod's.
            var who = await runtime.ExecAsync(id, new ExecRequest(["/bin/sh", "-c", "echo $(id -un) $(pwd) $FROM_SPEC $EXTRA $HOME"],
                new Dictionary<string, string> { ["EXTRA"] = "x1" }, "/tmp", WorkspaceImages.WorkspaceUser), Quiet, default);
            Assert.Equal(0, who.ExitCode);
            Assert.Equal($"{WorkspaceImages.WorkspaceUser} /tmp spec-value x1 /home/{WorkspaceImages.WorkspaceUser}", who.OutputTail.Trim());
            Assert.Equal(3, (await runtime.ExecAsync(id, new ExecRequest(["/bin/sh", "-c", "exit 3"]), Quiet, default)).ExitCode);
            Assert.Equal(127, (await runtime.ExecAsync(id, new ExecRequest(["no-such-command"]), Quiet, default)).ExitCode);
            var root = await runtime.ExecAsync(id, new ExecRequest(["id", "-u"], User: "0"), Quiet, default);
            Assert.Equal("0", root.OutputTail.Trim());

            // The workspaces folder is the user's (a fresh PVC is root's), so a clone as that user works.
            var write = await runtime.ExecAsync(id, new ExecRequest(["/bin/sh", "-c", "echo kept > /workspaces/file && echo home > ~/note"],
                User: WorkspaceImages.WorkspaceUser), Quiet, default);
            Assert.True(write.ExitCode == 0, write.OutputTail);

            await runtime.StopAsync(id, TimeSpan.FromSeconds(1), default);
            Assert.Null(f.Api.Pod(StandInFixture.Namespace, $"cde-{id}"));
            Assert.Equal(InstanceState.Exited, (await runtime.InspectAsync(id, default))!.State);
            Assert.Contains($"cde-{id}-workspaces", f.Api.Names("persistentvolumeclaims", StandInFixture.Namespace));

            await runtime.StartAsync(id, default);
            var read = await runtime.ExecAsync(id, new ExecRequest(["/bin/sh", "-c", "cat /workspaces/file ~/note"], User: WorkspaceImages.WorkspaceUser), Quiet, default);
            Assert.Equal("kept\nhome", read.OutputTail.Trim());
        }
        finally
        {
            await runtime.DeleteAsync(id, default);
        }

        Assert.Null(await runtime.InspectAsync(id, default));
        Assert.DoesNotContain(f.Api.Names("persistentvolumeclaims", StandInFixture.Namespace), n => n.Contains(id, StringComparison.Ordinal));
        Assert.DoesNotContain(f.Api.Names("services", StandInFixture.Namespace), n => n.Contains(id, StringComparison.Ordinal));
        Assert.DoesNotContain(f.Api.Names("secrets", StandInFixture.Namespace), n => n.Contains(id, StringComparison.Ordinal));
    }

    [Fact]
    public async Task Archive_and_restore_round_trip_and_a_stopped_workspace_is_read_through_a_pod_on_its_volumes()
    {
        var id = f.NewWorkspaceId("files");
        var runtime = f.Runtime;
        try
        {
            await runtime.CreateAsync(f.Spec(id, StandInFixture.Gateway), default);
            await runtime.StartAsync(id, default);
            using var tar = new MemoryStream();
            using (var writer = new System.Formats.Tar.TarWriter(tar, leaveOpen: true))
            {
                var entry = new System.Formats.Tar.PaxTarEntry(System.Formats.Tar.TarEntryType.RegularFile, "restored.txt")
                {
                    DataStream = new MemoryStream(Encoding.UTF8.GetBytes(new string('r', 300_000))),
                    Uid = 1000,
                    Gid = 1000,
                    Mode = UnixFileMode.UserRead | UnixFileMode.UserWrite,
                };
                writer.WriteEntry(entry);
            }

            tar.Position = 0;
            await runtime.RestoreAsync(id, "/workspaces/sub", tar, default);
            var listed = await runtime.ExecAsync(id, new ExecRequest(["/bin/sh", "-c", "stat -c '%u %s' /workspaces/sub/restored.txt"]), Quiet, default);
            Assert.Equal("1000 300000", listed.OutputTail.Trim());

            await runtime.StopAsync(id, TimeSpan.Zero, default);
            await using var archive = await runtime.ArchiveAsync(id, "/workspaces", default);
            using var reader = new System.Formats.Tar.TarReader(archive);
            var names = new List<string>();
            while (await reader.GetNextEntryAsync() is { } e)
            {
                names.Add(e.Name);
            }

            Assert.Contains("./sub/restored.txt", names);

            // Read to its end, as a snapshot upload reads it: by then the pod that read the volumes is gone.
            await archive.CopyToAsync(Stream.Null);
            Assert.Null(f.Api.Pod(StandInFixture.Namespace, $"cde-{id}.files"));
        }
        finally
        {
            await runtime.DeleteAsync(id, default);
        }
    }
}
