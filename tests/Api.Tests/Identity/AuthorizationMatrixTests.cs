namespace CloudDevEnv.Api.Tests.Identity;

/// <summary>Every endpoint × every kind of caller, with the status each must get. A caller refused access to a
/// workspace changes nothing about it; another user's workspace is a 404, the same as one that does not exist.</summary>
[Collection(HostCollection.Name)]
public sealed class AuthorizationMatrixTests(HostFixture host)
{
    private const int Unauthorized = 401;

    /// <summary>Expected status per caller, in the order of <see cref="Caller"/>; {id} is the owner's workspace, {token}
    /// another token of the owner's.</summary>
    private static readonly (string Method, string Path, string? Body, int[] Expected)[] Endpoints =
    [
        ("GET", "/api/workspaces/{id}", null, [401, 200, 200, 404, 200, 401, 401, 401]),
        ("GET", "/api/workspaces/{id}/events", null, [401, 200, 200, 404, 200, 401, 401, 401]),
        ("POST", "/api/workspaces/{id}/stop", null, [401, 202, 202, 404, 202, 401, 401, 401]),
        ("POST", "/api/workspaces/{id}/start", null, [401, 202, 202, 404, 202, 401, 401, 401]),
        ("DELETE", "/api/workspaces/{id}", null, [401, 202, 202, 404, 202, 401, 401, 401]),
        ("POST", "/api/workspaces/{id}/open", null, [401, 200, 200, 404, 200, 401, 401, 401]),
        ("PUT", "/api/workspaces/{id}/ports/3000", """{"visibility":"public"}""", [401, 200, 200, 404, 200, 401, 401, 401]),
        ("GET", "/authorize?workspace={id}", null, [401, 303, 303, 403, 403, 401, 401, 401]),
        ("GET", "/api/workspaces", null, [401, 200, 200, 200, 200, 401, 401, 401]),
        ("GET", "/api/workspaces?all=true", null, [401, 403, 403, 403, 200, 401, 401, 401]),
        ("POST", "/api/workspaces", """{"repoUrl":"https://github.com/octo/hello"}""", [401, 201, 201, 201, 201, 401, 401, 401]),
        ("GET", "/api/me", null, [401, 200, 200, 200, 200, 401, 401, 401]),
        ("GET", "/api/tokens", null, [401, 200, 200, 200, 200, 401, 401, 401]),
        ("POST", "/api/tokens", """{"name":"matrix"}""", [401, 201, 201, 201, 201, 401, 401, 401]),
        ("DELETE", "/api/tokens/{token}", null, [401, 204, 204, 404, 404, 401, 401, 401]),
        ("GET", "/dashboard/", null, [401, 403, 403, 403, 200, 401, 401, 401]),
    ];

    public static TheoryData<string, Caller> Cases()
    {
        var cases = new TheoryData<string, Caller>();
        foreach (var endpoint in Endpoints)
        {
            foreach (var caller in Enum.GetValues<Caller>())
            {
                cases.Add($"{endpoint.Method} {endpoint.Path}", caller);
            }
        }

        return cases;
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public async Task Each_caller_gets_the_status_it_should_and_a_refusal_changes_nothing(string endpoint, Caller caller)
    {
        var (method, path, body, expected) = Endpoints.Single(e => $"{e.Method} {e.Path}" == endpoint);
        var status = expected[(int)caller];

        var owner = Users.NewName("owner");
        using var ownerSession = await host.SignInAsync(owner);
        var created = await ownerSession.PostAsJsonAsync("/api/workspaces", new { repoUrl = "https://github.com/octo/hello" });
        var id = (await created.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetString()!;
        await Phases.WaitAsync(ownerSession, id, "Running");
        var (tokenId, _) = await Users.CreateTokenAsync(ownerSession, "to-revoke");
        var workspace = host.Grains.GetGrain<CloudDevEnv.Contracts.Workspaces.IWorkspaceGrain>(id);
        var before = await workspace.GetStatusAsync();
        var launchesBefore = host.Runtime.Calls(nameof(CloudDevEnv.Runtime.IWorkspaceRuntime.CreateAsync));

        var client = await Callers.ForAsync(caller, host, ownerSession, owner);
        try
        {
            using var request = Callers.Request(method, path.Replace("{id}", id).Replace("{token}", tokenId), body);
            using var response = await client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
            Assert.True((int)response.StatusCode == status, $"{caller} {endpoint}: expected {status}, got {(int)response.StatusCode}");
            if (status >= 400 && response.Content.Headers.ContentType?.MediaType == "application/problem+json")
            {
                await Problems.AssertAsync(response, (HttpStatusCode)status);
            }

            if (status == Unauthorized)
            {
                // Nothing about who is calling or why the credentials failed leaks out.
                var text = await response.Content.ReadAsStringAsync();
                Assert.DoesNotContain(owner, text);
                Assert.DoesNotContain("cde_", text);
            }
        }
        finally
        {
            if (!ReferenceEquals(client, ownerSession))
            {
                client.Dispose();
            }
        }

        if (status >= 400)
        {
            var after = await workspace.GetStatusAsync();
            Assert.Equal((before.Version, before.Phase, before.Desired), (after.Version, after.Phase, after.Desired));
            Assert.Equal(launchesBefore, host.Runtime.Calls(nameof(CloudDevEnv.Runtime.IWorkspaceRuntime.CreateAsync)));
            var tokens = await ownerSession.GetFromJsonAsync<JsonElement>("/api/tokens");
            Assert.Contains(tokens.EnumerateArray(), t => t.GetProperty("id").GetString() == tokenId);
        }
    }
}
