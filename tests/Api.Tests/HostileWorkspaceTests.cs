using CloudDevEnv.Grains.Provisioning;
using CloudDevEnv.Grains.Workspaces;
using CloudDevEnv.Workspaces.Docker.Tests;

namespace CloudDevEnv.Api.Tests;

/// <summary>A hostile repository launched beside an honest workspace on the real host process and the real engine: its
/// hook scans for the honest workspace's IDE and ports and for the control plane, and finds nothing open; the honest
/// workspace answers only through the proxy, to its owner.</summary>
public sealed class HostileWorkspaceTests : IAsyncLifetime
{
    private readonly string _dataDir = Directory.CreateTempSubdirectory("cde-hostile-").FullName;
    private readonly string _repoRoot = Directory.CreateTempSubdirectory("cde-hostile-repos-").FullName;

    public Task InitializeAsync()
    {
        // The workspaces' prepare instances clone the repositories as a user other than this process's.
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(_repoRoot, (UnixFileMode)0b111_101_101);
        }

        return Task.CompletedTask;
    }

    public Task DisposeAsync()
    {
        Directory.Delete(_dataDir, recursive: true);
        Directory.Delete(_repoRoot, recursive: true);
        return Task.CompletedTask;
    }

    [Fact]
    public async Task A_hostile_hook_scanning_for_other_workspaces_and_the_control_plane_finds_nothing_open()
    {
        var ports = FreePorts.Take(4);
        await using var silo = await SiloProcess.StartAsync(_dataDir, ports, new Dictionary<string, string> { ["CDE_LOCAL_REPO_ROOTS"] = _repoRoot });
        using var honest = await Users.SignInAsync(silo.Api, "honest");
        using var mallory = await Users.SignInAsync(silo.Api, "mallory");

        var plain = TestRepository.Create(_repoRoot, "plain").Write("README.md", "# honest\n");
        plain.Commit("one");
        var honestId = await LaunchAsync(honest, plain.Url, silo);
        var honestContainer = await DockerCli.RunAsync("inspect", "-f", "{{range .NetworkSettings.Networks}}{{.IPAddress}} {{end}}", "cde-" + honestId);
        var honestIp = honestContainer.Trim().Split(' ')[0];
        var gatewayPort = new WorkspaceOptions().GatewayPort;
        var idePort = new WorkspaceOptions().IdePort;

        // The scan: the honest workspace's gateway, IDE and a dev-server port; every control-plane port of the host,
        // through the hostile workspace's own network gateway (the host) and through the honest one's; the engine's socket.
        var targets = string.Join(' ',
            $"{honestIp}:{gatewayPort}", $"{honestIp}:{idePort}", $"{honestIp}:8080", $"{honestIp}:22",
            $"HOST:{ports[0]}", $"HOST:{ports[1]}", $"HOST:{ports[2]}", $"HOST:{ports[3]}", "HOST:2375", "HOST:5432",
            $"127.0.0.1:{ports[0]}", $"127.0.0.1:{ports[1]}");
        var hostile = TestRepository.Create(_repoRoot, "hostile")
            .Write("scan.sh", """
                #!/bin/bash
                # Reports every target as open or closed; never fails, so the workspace comes up and can be looked at.
                host=$(awk '$2 == "00000000" { printf "%d.%d.%d.%d", "0x" substr($3,7,2), "0x" substr($3,5,2), "0x" substr($3,3,2), "0x" substr($3,1,2) }' /proc/net/route)
                for target in $TARGETS; do
                  target=${target/HOST/$host}
                  if timeout 3 bash -c "exec 3<>/dev/tcp/${target%:*}/${target#*:}" 2>/dev/null; then echo "open $target"; else echo "closed $target"; fi
                done
                if [ -e /var/run/docker.sock ] || [ -e /run/docker.sock ]; then echo "open docker.sock"; else echo "closed docker.sock"; fi
                # The control: its own gateway, which must be found open, or the scan proves nothing.
                if timeout 3 bash -c "exec 3<>/dev/tcp/127.0.0.1/$CDE_GATEWAY_PORT" 2>/dev/null; then echo "control-open"; else echo "control-closed"; fi
                true
                """)
            .Write(".devcontainer/devcontainer.json", $$"""
                {
                  "image": "{{CloudDevEnv.Runtime.Docker.WorkspaceImages.BaseImage}}",
                  "containerEnv": { "TARGETS": "{{targets}}" },
                  "postCreateCommand": "bash scan.sh > scan.txt 2>&1"
                }
                """);
        hostile.Commit("scan");
        var hostileId = await LaunchAsync(mallory, hostile.Url, silo);

        var scan = await DockerCli.RunAsync("exec", "cde-" + hostileId, "cat", "/workspaces/hostile/scan.txt");
        var lines = scan.Split('\n', StringSplitOptions.RemoveEmptyEntries).ToList();
        Assert.True(lines.Remove("control-open"), $"the scanner did not find its own gateway open, so it proves nothing:\n{scan}");
        Assert.Equal(targets.Split(' ').Length + 1, lines.Count);
        Assert.All(lines, line => Assert.StartsWith("closed ", line));

        // The honest workspace's one published port answers nobody without the gateway's secret: not this process either.
        var published = (await DockerCli.RunAsync("port", "cde-" + honestId)).Trim();
        Assert.Single(published.Split('\n'));
        Assert.StartsWith($"{gatewayPort}/tcp -> 127.0.0.1:", published);
        using var local = new HttpClient();
        var direct = await local.GetAsync($"http://{published.Split(" -> ")[1]}/");
        Assert.Equal(HttpStatusCode.Unauthorized, direct.StatusCode);

        // The platform stayed responsive, and the honest IDE still opens through the proxy, for its owner.
        Assert.Equal("ready", await honest.GetStringAsync("/readyz"));
        Assert.Equal(HttpStatusCode.NotFound, (await mallory.PostAsync($"/api/workspaces/{honestId}/open", null)).StatusCode);
        var link = new Uri((await (await honest.PostAsync($"/api/workspaces/{honestId}/open", null)).Content.ReadFromJsonAsync<JsonElement>()).GetProperty("url").GetString()!);
        using var browser = new BrowserClient();
        var ide = await browser.NavigateAsync(link);
        Assert.Equal(HttpStatusCode.OK, ide.Response.StatusCode);
        Assert.Contains("workbench", await ide.Response.Content.ReadAsStringAsync());

        await DeleteAsync(honest, honestId);
        await DeleteAsync(mallory, hostileId);
    }

    [Fact]
    public async Task Another_users_build_image_is_refused_and_an_operators_list_is_kept()
    {
        var ports = FreePorts.Take(4);
        await using var silo = await SiloProcess.StartAsync(_dataDir, ports, new Dictionary<string, string>
        {
            ["Workspaces__AllowedImages__0"] = "mcr.microsoft.com/devcontainers/",
        });
        using var mallory = await Users.SignInAsync(silo.Api, "mallory");

        var theirs = ImagePolicy.BuildTag(new ProvisioningOptions(), "victim", "0123456789abcdef0123");
        var refused = await Problems.AssertAsync(
            await mallory.PostAsJsonAsync("/api/workspaces", new { repoUrl = "https://github.com/octo/hello", image = theirs }), HttpStatusCode.BadRequest, "image");
        Assert.Contains("another user's workspace", refused.GetProperty("detail").GetString());

        var other = await Problems.AssertAsync(
            await mallory.PostAsJsonAsync("/api/workspaces", new { repoUrl = "https://github.com/octo/hello", image = "evil.example/miner:1" }), HttpStatusCode.BadRequest, "image");
        Assert.Contains("Workspaces:AllowedImages", other.GetProperty("detail").GetString());

        var mine = ImagePolicy.BuildTag(new ProvisioningOptions(), "mallory", "0123456789abcdef0123");
        var accepted = new List<string>();
        foreach (var image in new[] { mine, "mcr.microsoft.com/devcontainers/base:bookworm" })
        {
            var created = await mallory.PostAsJsonAsync("/api/workspaces", new { repoUrl = "https://github.com/octo/hello", image });
            Assert.Equal(HttpStatusCode.Created, created.StatusCode);
            accepted.Add((await created.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetString()!);
        }

        Assert.Equal(2, (await mallory.GetFromJsonAsync<JsonElement>("/api/workspaces")).GetArrayLength());
        foreach (var id in accepted)
        {
            await DeleteAsync(mallory, id);
        }
    }

    /// <summary>Deletes and waits for it, so that the host process is not killed with a container half removed.</summary>
    private static async Task DeleteAsync(HttpClient user, string id)
    {
        await user.DeleteAsync($"/api/workspaces/{id}");
        await Phases.WaitAsync(user, id, "Deleted", TimeSpan.FromSeconds(90));
    }

    private static async Task<string> LaunchAsync(HttpClient user, string repoUrl, SiloProcess silo)
    {
        var created = await user.PostAsJsonAsync("/api/workspaces", new { repoUrl });
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        var id = (await created.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetString()!;
        await Phases.HooksDoneAsync(user, id, TimeSpan.FromSeconds(180), () => silo.Output);
        return id;
    }
}
