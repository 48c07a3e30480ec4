// Drives the platform with nothing but the Kiota-generated client, as a tool author's script would, and prints what
// happened as one JSON object for the test to judge.
using System.Text.Json;
using CdeClient.Api;
using CdeClient.Api.Models;
using Microsoft.Kiota.Abstractions;
using Microsoft.Kiota.Abstractions.Authentication;
using Microsoft.Kiota.Http.HttpClientLibrary;

var url = Environment.GetEnvironmentVariable("CDE_URL") ?? throw new InvalidOperationException("CDE_URL is not set.");
var token = Environment.GetEnvironmentVariable("CDE_TOKEN") ?? throw new InvalidOperationException("CDE_TOKEN is not set.");
var repo = Environment.GetEnvironmentVariable("CDE_REPO") ?? throw new InvalidOperationException("CDE_REPO is not set.");

// Every request the client sends, retries included, passes this handler.
var counter = new CountingHandler { InnerHandler = new HttpClientHandler() };
var adapter = new HttpClientRequestAdapter(
    new BearerToken(token),
    httpClient: KiotaClientFactory.Create(counter))
{
    BaseUrl = url,
};
var api = new CdeApi(adapter);
var report = new Dictionary<string, object?>();

async Task<WorkspaceResource> WaitAsync(string id, string phase) =>
    (await api.Api.Workspaces[id].GetAsync(c =>
    {
        c.QueryParameters.Wait = phase;
        c.QueryParameters.Timeout = 60;
    }))!;

var created = (await api.Api.Workspaces.PostAsync(new CreateWorkspaceRequest { RepoUrl = repo, DisplayName = "kiota" }))!;
var id = created.Id!;
report["created"] = created.Phase?.ToString();
report["running"] = (await WaitAsync(id, "Running")).Phase?.ToString();
report["stopRequested"] = (await api.Api.Workspaces[id].Stop.PostAsync())!.Desired?.ToString();
report["stopped"] = (await WaitAsync(id, "Stopped")).Phase?.ToString();
await api.Api.Workspaces[id].DeleteAsync();
report["deleted"] = (await WaitAsync(id, "Deleted")).Phase?.ToString();

// Over the quota: a typed problem at once, sent once (a generated client retries 429 and 503, never a 403).
var held = new List<string>();
for (var i = 0; i < 10 && !report.ContainsKey("quotaStatus"); i++)
{
    var before = counter.Sends;
    try
    {
        held.Add((await api.Api.Workspaces.PostAsync(new CreateWorkspaceRequest { RepoUrl = repo }))!.Id!);
    }
    catch (ProblemDetails problem)
    {
        report["quotaStatus"] = problem.ResponseStatusCode;
        report["quotaType"] = problem.Type;
        report["quotaSends"] = counter.Sends - before;
    }
}

report["held"] = held.Count;
foreach (var kept in held)
{
    await api.Api.Workspaces[kept].DeleteAsync();
}

Console.WriteLine(JsonSerializer.Serialize(report));

internal sealed class CountingHandler : DelegatingHandler
{
    private int _sends;

    public int Sends => _sends;

    protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        Interlocked.Increment(ref _sends);
        return base.SendAsync(request, cancellationToken);
    }
}

/// <summary>The API token as a bearer credential (Kiota's own API-key provider takes https only; this API listens on
/// loopback over http).</summary>
internal sealed class BearerToken(string token) : IAuthenticationProvider
{
    public Task AuthenticateRequestAsync(RequestInformation request, Dictionary<string, object>? additionalAuthenticationContext = null, CancellationToken cancellationToken = default)
    {
        request.Headers.Add("Authorization", "Bearer " + token);
        return Task.CompletedTask;
    }
}
