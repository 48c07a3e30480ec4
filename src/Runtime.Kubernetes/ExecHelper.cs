using System.Text.Json;
using System.Text.Json.Serialization;

namespace CloudDevEnv.Runtime.Kubernetes;

/// <summary>What Docker's exec does and Kubernetes' does not: run as a named user, in a folder, with extra variables.
/// Kubernetes' exec runs argv as the container's user (root here, with the capability set only), so every command runs
/// under this small program on the IDE bundle's node (present in every workspace pod): it resolves the user in the
/// image's own /etc/passwd and /etc/group, takes its groups, sets HOME as Docker does, and runs the command as that user,
/// passing on signals and the exit code.</summary>
internal static class ExecHelper
{
    /// <param name="User">"name", "uid", "name:group" or "uid:gid"; null or empty: root.</param>
    internal sealed record Request(
        [property: JsonPropertyName("user")] string? User,
        [property: JsonPropertyName("cwd")] string? WorkingDirectory,
        [property: JsonPropertyName("env")] IReadOnlyDictionary<string, string>? Environment);

    public static List<string> Command(string bundle, Request request, IReadOnlyList<string> argv) =>
        [$"{bundle}/node/bin/node", "-e", Script, JsonSerializer.Serialize(request), .. argv];

    // Exit codes as Docker's exec gives them: 126 when the user or the folder is not there, 127 for an unknown command.
    private const string Script = """
        const fs = require('fs'), cp = require('child_process'), os = require('os');
        const [spec, ...argv] = process.argv.slice(1);
        const { user, cwd, env: extra } = JSON.parse(spec);
        const fail = (code, message) => { process.stderr.write(message + '\n'); process.exit(code); };
        const table = (file) => { try { return fs.readFileSync(file, 'utf8').split('\n').map(l => l.split(':')); } catch { return []; } };
        const env = { ...process.env, ...(extra || {}) };
        let uid, gid, name;
        if (user) {
          const [u, g] = String(user).split(':');
          const pw = table('/etc/passwd').find(f => f.length >= 7 && (f[0] === u || f[2] === u));
          if (pw) { name = pw[0]; uid = +pw[2]; gid = +pw[3]; if (!(extra && extra.HOME)) env.HOME = pw[5]; }
          else if (/^\d+$/.test(u)) { uid = +u; gid = uid; }
          else fail(126, `unable to find user ${u}: no matching entries in passwd file`);
          if (g !== undefined && g !== '') {
            if (/^\d+$/.test(g)) gid = +g;
            else { const gr = table('/etc/group').find(f => f[0] === g); if (!gr) fail(126, `unable to find group ${g}: no matching entries in group file`); gid = +gr[2]; }
          }
          try { if (name) process.initgroups(name, gid); else process.setgroups([gid]); } catch { }
        }
        if (cwd && !fs.existsSync(cwd)) fail(126, `chdir to cwd ("${cwd}") set in config.json failed: no such file or directory`);
        const child = cp.spawn(argv[0], argv.slice(1), { stdio: 'inherit', cwd: cwd || undefined, env, uid, gid });
        child.on('error', e => fail(e.code === 'ENOENT' ? 127 : 126, `${argv[0]}: ${e.code === 'ENOENT' ? 'command not found' : e.message}`));
        for (const s of ['SIGTERM', 'SIGINT', 'SIGHUP']) process.on(s, () => child.kill(s));
        child.on('exit', (code, signal) => process.exit(code ?? 128 + (os.constants.signals[signal] || 0)));
        """;

    /// <summary>Runs argv with its stdin fed from frames (a 4-byte big-endian length, then that many bytes; length 0 ends
    /// it): the exec protocol (v4) cannot close a command's stdin, and <c>tar -x</c> needs to see its input end.</summary>
    public static List<string> FramedStdinCommand(string bundle, IReadOnlyList<string> argv) =>
        [$"{bundle}/node/bin/node", "-e", Unframe, .. argv];

    public static byte[] Frame(ReadOnlySpan<byte> data)
    {
        var frame = new byte[4 + data.Length];
        System.Buffers.Binary.BinaryPrimitives.WriteInt32BigEndian(frame, data.Length);
        data.CopyTo(frame.AsSpan(4));
        return frame;
    }

    private const string Unframe = """
        const cp = require('child_process'), os = require('os');
        const argv = process.argv.slice(1);
        const child = cp.spawn(argv[0], argv.slice(1), { stdio: ['pipe', 'inherit', 'inherit'] });
        child.on('error', e => { process.stderr.write(`${argv[0]}: ${e.message}\n`); process.exit(127); });
        child.stdin.on('error', () => { });
        let pending = Buffer.alloc(0), ended = false;
        process.stdin.on('data', chunk => {
          pending = Buffer.concat([pending, chunk]);
          while (!ended && pending.length >= 4) {
            const n = pending.readUInt32BE(0);
            if (n === 0) { ended = true; child.stdin.end(); process.stdin.pause(); break; }
            if (pending.length < 4 + n) break;
            child.stdin.write(pending.subarray(4, 4 + n));
            pending = pending.subarray(4 + n);
          }
        });
        process.stdin.on('end', () => { if (!ended) child.stdin.end(); });
        child.on('exit', (code, signal) => process.exit(code ?? 128 + (os.constants.signals[signal] || 0)));
        """;
}
