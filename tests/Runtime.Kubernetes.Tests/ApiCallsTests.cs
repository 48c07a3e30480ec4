using System.Text.Json;
using CloudDevEnv.DevContainers.Tests.ReferenceCli;
using CloudDevEnv.KubernetesStandIn;
using CloudDevEnv.Runtime.Docker;

namespace CloudDevEnv.Runtime.Kubernetes.Tests;

/// <summary>The calls the runtime makes, as an API server authorizes them (verb, resource), recorded by the stand-in while
/// every operation of the runtime runs, are exactly those k8s/base/runtime-api-calls.json lists for the workspace runtime;
/// the manifest tests hold the Role in k8s/ to that same list. So the Role is derived from what the code does: a call
/// added to the runtime fails here until the list (and so the Role) grants it, and a grant nobody uses fails here too.</summary>
public sealed class ApiCallsTests
{
    [Fact]
    public async Task Every_operation_of_the_runtime_makes_exactly_the_calls_the_Role_is_made_from()
    {
        await using var api = await KubernetesApiStandIn.StartAsync(preboundClaims: new Dictionary<string, string> { ["clouddevenv-ide"] = WorkspaceImages.IdeBundleVolume });
        const string ns = "cde-calls";
        using var runtime = new KubernetesWorkspaceRuntime(new KubernetesRuntimeOptions
        {
            Namespace = ns, GatewayAddressing = GatewayAddressing.NodePort, Installation = "calls", DefaultStopGrace = TimeSpan.FromSeconds(1),
        }, api.ClientConfiguration(ns));
        var quiet = new InlineProgress<string>(_ => { });
        var id = "calls-1";
        var spec = new InstanceSpec(id, "ada", WorkspaceImages.WorkspaceImage, null, new Dictionary<string, string>(),
            new InstanceGateway(61100, 13337, InstanceGateway.NewSecret()), [new InstanceMount("cache", "/cache", false, InstanceMountKind.Volume)],
            new InstanceResources(1, 1L << 30), User: WorkspaceImages.WorkspaceUser);
        try
        {
            await runtime.PrepareImageAsync(new ImageRequest(WorkspaceImages.WorkspaceImage), quiet, default);
            await runtime.CreateAsync(spec, default);
            await runtime.CreateAsync(spec, default); // adopted
            await runtime.StartAsync(id, default);

            // The NetworkPolicies select workspace pods by the labels the list names: the pods carry them.
            var labels = api.Pod(ns, $"cde-{id}")!.Metadata.Labels;
            foreach (var (key, value) in WorkspacePodLabels())
            {
                Assert.True(labels.TryGetValue(key, out var actual) && actual == value, $"the pod has no label {key}={value}");
            }

            await runtime.InspectAsync(id, default);
            await runtime.ListAsync(default);
            await runtime.ExecAsync(id, new ExecRequest(["true"]), quiet, default);
            await runtime.ProbeIdeAsync(id, default);
            using (var empty = new MemoryStream(new byte[1024]))
            {
                await runtime.RestoreAsync(id, "/workspaces", empty, default);
            }

            await runtime.StopAsync(id, TimeSpan.Zero, default);
            await using (var tar = await runtime.ArchiveAsync(id, "/workspaces", default))
            {
                await tar.CopyToAsync(Stream.Null);
            }

            // Made again for another gateway secret: its pod and Secret are replaced.
            await runtime.StartAsync(id, default);
            await runtime.CreateAsync(spec with { Gateway = new InstanceGateway(61100, 13337, InstanceGateway.NewSecret()) }, default);
        }
        finally
        {
            await runtime.DeleteAsync(id, default);
        }

        var made = api.Calls.Select(c => $"{c.Resource}:{c.Verb}").ToHashSet(StringComparer.Ordinal);
        var granted = Granted();
        Assert.True(made.SetEquals(granted),
            $"made but not listed: [{string.Join(", ", made.Except(granted).Order())}]; listed but never made: [{string.Join(", ", granted.Except(made).Order())}]");
    }

    private static JsonDocument List() => JsonDocument.Parse(File.ReadAllText(Path.Combine(RepositoryRoot.Path, "k8s", "base", "runtime-api-calls.json")));

    private static Dictionary<string, string> WorkspacePodLabels()
    {
        using var json = List();
        return json.RootElement.GetProperty("workspacePods").GetProperty("labels").EnumerateObject().ToDictionary(p => p.Name, p => p.Value.GetString()!);
    }

    private static HashSet<string> Granted()
    {
        using var json = List();
        var granted = new HashSet<string>(StringComparer.Ordinal);
        foreach (var call in json.RootElement.GetProperty("workspaceRuntime").GetProperty("calls").EnumerateArray())
        {
            Assert.Equal("", call.GetProperty("apiGroup").GetString());
            foreach (var verb in call.GetProperty("verbs").EnumerateArray())
            {
                granted.Add($"{call.GetProperty("resource").GetString()}:{verb.GetString()}");
            }
        }

        return granted;
    }
}
