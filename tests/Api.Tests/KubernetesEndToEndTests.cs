using System.Net.WebSockets;
using CloudDevEnv.KubernetesStandIn;
using CloudDevEnv.Runtime.Docker;
using CloudDevEnv.Workspaces.Docker.Tests;

namespace CloudDevEnv.Api.Tests;

/// <summary>The host process configured for Kubernetes (<c>Runtime:Kind=Kubernetes</c>, a kubeconfig), against the
/// Kubernetes API STAND-IN whose pods are containers on the local engine: a repository launched through the REST API is a
/// pod, and its IDE loads, WebSocket included, through the platform's proxy at <c>&lt;id&gt;.localhost</c>.</summary>
public sealed class KubernetesEndToEndTests : IAsyncLifetime
{
    private const string Namespace = "cde-e2e";
    private readonly string _dataDir = Directory.CreateTempSubdirectory("cde-k8s-e2e-").FullName;
    private readonly string _repoRoot = Directory.CreateTempSubdirectory("cde-k8s-e2e-repos-").FullName;
    private KubernetesApiStandIn _api = null!;

    public async Task InitializeAsync()
    {
        // The repositories are mounted into pods and cloned there by the workspace user (uid 1000).
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(_repoRoot, (UnixFileMode)0b111_101_101);
        }

        _api = await KubernetesApiStandIn.StartAsync(preboundClaims: new Dictionary<string, string> { ["clouddevenv-ide"] = WorkspaceImages.IdeBundleVolume });
    }

    public async Task DisposeAsync()
    {
        await _api.DisposeAsync();
        Directory.Delete(_dataDir, recursive: true);
        Directory.Delete(_repoRoot, recursive: true);
    }

    [Fact]
    public async Task A_workspace_launched_on_Kubernetes_serves_code_server_and_its_websocket_through_the_proxy()
    {
        var repository = TestRepository.Create(_repoRoot, "on-k8s").Write("README.md", "# on kubernetes\n");
        repository.Commit("first");
        var ports = FreePorts.Take(4);
        await using var silo = await SiloProcess.StartAsync(_dataDir, ports, new Dictionary<string, string>
        {
            ["CDE_LOCAL_REPO_ROOTS"] = _repoRoot,
            ["Runtime__Kind"] = "Kubernetes",
            ["Runtime__Kubernetes__Kubeconfig"] = _api.WriteKubeconfig(Path.Combine(_dataDir, "kubeconfig"), Namespace),
            ["Runtime__Kubernetes__Namespace"] = Namespace,
            ["Runtime__Kubernetes__GatewayAddressing"] = "NodePort",
            ["Runtime__Kubernetes__NodeAddress"] = "127.0.0.1",
            // Only because the test repositories are local folders: a cluster clones over the network.
            ["Runtime__Kubernetes__AllowHostPathMounts"] = "true",
        });
        using var api = await Users.SignInAsync(silo.Api, "ada");

        var created = await api.PostAsJsonAsync("/api/workspaces", new { repoUrl = repository.Url });
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        var id = (await created.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetString()!;
        try
        {
            await Phases.WaitAsync(api, id, "Running", TimeSpan.FromSeconds(150), () => silo.Output);
            var pod = _api.Pod(Namespace, $"cde-{id}");
            Assert.NotNull(pod);
            Assert.Equal("Running", pod.Status.Phase);

            var signIn = new Uri((await (await api.PostAsync($"/api/workspaces/{id}/open", null)).Content.ReadFromJsonAsync<JsonElement>()).GetProperty("url").GetString()!);
            var host = $"{id}.localhost:{ports[1]}";
            using var handler = new SocketsHttpHandler { AllowAutoRedirect = false, UseCookies = false, ConnectCallback = LoopbackBrowser.ConnectToLoopback(ports[1]) };
            using var browser = new HttpClient(handler);
            Assert.Equal(HttpStatusCode.Unauthorized, (await browser.GetAsync($"http://{host}/")).StatusCode);
            var redeemed = await browser.GetAsync($"http://{host}{signIn.PathAndQuery}");
            Assert.Equal(HttpStatusCode.SeeOther, redeemed.StatusCode);
            var cookie = redeemed.Headers.GetValues("Set-Cookie").Single().Split(';')[0];

            var page = await LoopbackBrowser.FollowAsync(browser, $"http://{host}/", cookie);
            Assert.Equal(HttpStatusCode.OK, page.StatusCode);
            Assert.Contains("workbench", await page.Content.ReadAsStringAsync());

            using var socket = new ClientWebSocket();
            socket.Options.SetRequestHeader("Cookie", cookie);
            socket.Options.SetRequestHeader("Origin", $"http://{host}");
            using var invoker = new HttpMessageInvoker(new SocketsHttpHandler { ConnectCallback = LoopbackBrowser.ConnectToLoopback(ports[1]) });
            await socket.ConnectAsync(new Uri($"ws://{host}/?reconnectionToken={Guid.NewGuid()}&reconnection=false&skipWebSocketFrames=false"), invoker, CancellationToken.None);
            Assert.Equal(WebSocketState.Open, socket.State);
            await socket.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, "done", CancellationToken.None);
        }
        finally
        {
            await api.DeleteAsync($"/api/workspaces/{id}");
            await Phases.WaitAsync(api, id, "Deleted", TimeSpan.FromSeconds(60), () => silo.Output);
        }

        foreach (var plural in new[] { "pods", "persistentvolumeclaims", "services", "secrets" })
        {
            Assert.Empty(_api.Names(plural, Namespace));
        }
    }
}
