using System.Formats.Tar;
using System.Security.Cryptography;
using CloudDevEnv.Grains.Snapshots;

namespace CloudDevEnv.Grains.Tests;

/// <summary>The snapshot format on forward-only streams, as the engine's archives and object stores give them.</summary>
public sealed class SnapshotArchiveTests
{
    private static readonly string[] Prefixes = ["workspaces/", "home/"];

    private static byte[] Tar(params (TarEntryType Type, string Name, string? Content, string? Link)[] entries)
    {
        var tar = new MemoryStream();
        using (var writer = new TarWriter(tar, TarEntryFormat.Pax, leaveOpen: true))
        {
            foreach (var (type, name, content, link) in entries)
            {
                var entry = new PaxTarEntry(type, name);
                if (link is not null)
                {
                    entry.LinkName = link;
                }

                if (content is not null)
                {
                    entry.DataStream = new MemoryStream(System.Text.Encoding.UTF8.GetBytes(content));
                }

                writer.WriteEntry(entry);
            }
        }

        return tar.ToArray();
    }

    private static (TarEntryType Type, string Name, string? Content, string? Link) File(string name, string content) => (TarEntryType.RegularFile, name, content, null);

    private static async Task<Dictionary<string, string>> ReadAsync(Stream tar)
    {
        var files = new Dictionary<string, string>();
        await using var reader = new TarReader(tar);
        while (await reader.GetNextEntryAsync() is { } entry)
        {
            files[entry.Name] = entry.EntryType switch
            {
                TarEntryType.RegularFile => entry.DataStream is { } data ? await new StreamReader(data).ReadToEndAsync() : string.Empty,
                TarEntryType.HardLink or TarEntryType.SymbolicLink => "-> " + entry.LinkName,
                _ => entry.EntryType.ToString(),
            };
        }

        return files;
    }

    /// <summary>What an engine's archive stream is: readable once, forward only, and (as Docker.DotNet's chunked response
    /// is) throwing on an empty read.</summary>
    private sealed class ForwardOnly(byte[] bytes) : MemoryStream(bytes)
    {
        public override bool CanSeek => false;

        public override int Read(byte[] buffer, int offset, int count) =>
            count == 0 ? throw new EndOfStreamException("an empty read") : base.Read(buffer, offset, count);

        public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) =>
            buffer.IsEmpty ? throw new EndOfStreamException("an empty read") : base.ReadAsync(buffer, cancellationToken);

        public override long Seek(long offset, SeekOrigin loc) => throw new NotSupportedException();

        public override long Position { get => base.Position; set => throw new NotSupportedException(); }

        public override long Length => throw new NotSupportedException();
    }

    [Fact]
    public async Task Folders_combine_under_their_names_without_the_excluded_and_a_big_file_streams_through()
    {
        var big = new string('x', 3 * 1024 * 1024 + 17);
        var workspaces = Tar((TarEntryType.Directory, "./", null, null), File("./repo/a.txt", "a"), File("./repo/big.bin", big),
            (TarEntryType.HardLink, "./repo/b.txt", null, "./repo/a.txt"));
        var home = Tar((TarEntryType.Directory, "./", null, null), File("./vscode/.bash_history", "ls"), File("./vscode/.cache/x", "cache"),
            (TarEntryType.SymbolicLink, "./vscode/link", null, "/etc/passwd"));

        await using var combined = SnapshotArchive.Combine(
            [
                new SnapshotArchive.Part("/workspaces", _ => Task.FromResult<Stream>(new ForwardOnly(workspaces))),
                new SnapshotArchive.Part("/home", _ => Task.FromResult<Stream>(new ForwardOnly(home))),
            ],
            name => name.StartsWith("home/vscode/.cache", StringComparison.Ordinal),
            CancellationToken.None);
        var files = await ReadAsync(combined);

        Assert.Equal(
            ["home/", "home/vscode/.bash_history", "home/vscode/link", "workspaces/", "workspaces/repo/a.txt", "workspaces/repo/b.txt", "workspaces/repo/big.bin"],
            files.Keys.Order(StringComparer.Ordinal));
        Assert.Equal(big, files["workspaces/repo/big.bin"]);
        Assert.Equal("-> workspaces/repo/a.txt", files["workspaces/repo/b.txt"]);
        Assert.Equal("-> /etc/passwd", files["home/vscode/link"]); // a symbolic link is the user's; it is unpacked inside the container
    }

    [Fact]
    public async Task A_restore_keeps_only_what_belongs_in_the_kept_folders_and_checks_the_digest()
    {
        var hostile = Tar(File("workspaces/ok.txt", "ok"), File("etc/passwd", "root::0:0"), File("workspaces/../etc/shadow", "x"),
            File("home/vscode/.profile", "export A=1"), (TarEntryType.HardLink, "workspaces/steal", null, "etc/passwd"),
            (TarEntryType.CharacterDevice, "workspaces/null", null, null));
        var sha = Convert.ToHexStringLower(SHA256.HashData(hostile));

        await using var restored = SnapshotArchive.ForRestore(new ForwardOnly(hostile), sha, Prefixes, CancellationToken.None);
        var files = await ReadAsync(restored);

        Assert.Equal(["home/vscode/.profile", "workspaces/ok.txt"], files.Keys.Order(StringComparer.Ordinal));
        Assert.Null(restored.Fault);
    }

    [Fact]
    public async Task A_snapshot_whose_digest_differs_fails_the_stream_before_it_ends()
    {
        var tar = Tar(File("workspaces/notes.txt", "draft"));
        var wrong = Convert.ToHexStringLower(SHA256.HashData("something else"u8));

        await using var restored = SnapshotArchive.ForRestore(new ForwardOnly(tar), wrong, Prefixes, CancellationToken.None);
        var error = await Assert.ThrowsAsync<CorruptSnapshotException>(() => restored.CopyToAsync(Stream.Null));
        Assert.StartsWith("its SHA-256 is ", error.Why);
        Assert.IsType<CorruptSnapshotException>(restored.Fault);
    }

    [Fact]
    public async Task A_snapshot_cut_short_is_corrupt()
    {
        var tar = Tar(File("workspaces/notes.txt", new string('y', 5000)));
        await using var restored = SnapshotArchive.ForRestore(new ForwardOnly(tar[..1500]), sha256: null, Prefixes, CancellationToken.None);
        await Assert.ThrowsAnyAsync<Exception>(() => restored.CopyToAsync(Stream.Null));
        Assert.IsType<CorruptSnapshotException>(restored.Fault);
    }

    [Fact]
    public async Task A_snapshot_from_before_home_folders_were_kept_restores_into_the_workspaces_folder()
    {
        var legacy = Tar((TarEntryType.Directory, "./", null, null), File("./hello/notes.txt", "old"), File("./../escape", "x"));
        await using var restored = SnapshotArchive.ForRestore(new ForwardOnly(legacy), sha256: null, Prefixes, CancellationToken.None);
        var files = await ReadAsync(restored);
        Assert.Equal(["workspaces/", "workspaces/hello/notes.txt"], files.Keys.Order(StringComparer.Ordinal));
    }
}
