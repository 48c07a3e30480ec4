using System.Net.Http.Headers;

namespace CloudDevEnv.Api.Tests;

/// <summary>Callers of the API as the tests need them: a browser session (the cookie of the development sign-in and the
/// CSRF header, as the page sends them) or a script with a bearer token.</summary>
public static class Users
{
    public static string NewName(string prefix = "u") => prefix + Guid.NewGuid().ToString("N")[..10];

    public static async Task<HttpClient> SignInAsync(Uri api, string user)
    {
        var client = new HttpClient(new HttpClientHandler { CookieContainer = new CookieContainer(), AllowAutoRedirect = false }) { BaseAddress = api };
        using var response = await client.PostAsync("/signin/dev", new FormUrlEncodedContent([new("user", user)]));
        Assert.True(response.StatusCode == HttpStatusCode.SeeOther, $"dev sign-in of {user}: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
        var me = await client.GetFromJsonAsync<JsonElement>("/api/me");
        Assert.Equal(user, me.GetProperty("user").GetString());
        client.DefaultRequestHeaders.Add("X-CSRF-Token", me.GetProperty("csrfToken").GetString());
        return client;
    }

    public static HttpClient WithToken(Uri api, string token)
    {
        var client = new HttpClient(new HttpClientHandler { AllowAutoRedirect = false }) { BaseAddress = api };
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
        return client;
    }

    public static async Task<(string Id, string Token)> CreateTokenAsync(HttpClient session, string name = "tests", int? days = null)
    {
        using var response = await session.PostAsJsonAsync("/api/tokens", days is null ? new { name } : (object)new { name, expiresInDays = days });
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        var body = await response.Content.ReadFromJsonAsync<JsonElement>();
        return (body.GetProperty("id").GetString()!, body.GetProperty("token").GetString()!);
    }
}
