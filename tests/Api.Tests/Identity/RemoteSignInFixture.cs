using CloudDevEnv.Runtime;
using CloudDevEnv.Silo.Hosting;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace CloudDevEnv.Api.Tests.Identity;

/// <summary>The local-mode host configured as an operator would for a company: sign-in through an OpenID Connect
/// provider and through GitHub (both played by a real oidc-provider on loopback: GitHub's user endpoint mapped to its
/// userinfo endpoint), a second OIDC provider that is down, and no development sign-in.</summary>
public sealed class RemoteSignInFixture : IAsyncLifetime
{
    public const string AdminLogin = "boss";

    private WebApplication? _app;

    public OidcProviderProcess Provider { get; private set; } = null!;

    public Uri Api { get; private set; } = null!;

    public string DataDir { get; } = Directory.CreateTempSubdirectory("cde-oidc-").FullName;

    public async Task InitializeAsync()
    {
        var ports = FreePorts.Take(6);
        Api = new Uri($"http://127.0.0.1:{ports[0]}");
        Provider = await OidcProviderProcess.StartAsync(ports[4],
        [
            Client("cde-oidc", "/signin/oidc-corp/callback"),
            Client("cde-github", "/signin/github/callback"),
        ], AdminLogin);

        var issuer = Provider.Issuer.AbsoluteUri.TrimEnd('/');
        var builder = LocalHost.CreateBuilder(
        [
            $"--Host:ApiUrl={Api.AbsoluteUri.TrimEnd('/')}",
            $"--Host:ProxyUrl=http://127.0.0.1:{ports[1]}",
            $"--Host:SiloPort={ports[2]}",
            $"--Host:GatewayPort={ports[3]}",
            $"--Host:DataDir={DataDir}",
            $"--Proxy:PublicPort={ports[1]}",
            "--Auth:DevSignIn:Enabled=false",

            "--Auth:Oidc:corp:DisplayName=Corp SSO",
            $"--Auth:Oidc:corp:Authority={issuer}",
            "--Auth:Oidc:corp:ClientId=cde-oidc",
            "--Auth:Oidc:corp:ClientSecret=oidc-secret-for-tests",
            "--Auth:Oidc:corp:RequireHttpsMetadata=false",
            "--Auth:Oidc:corp:AdminClaim=groups",
            "--Auth:Oidc:corp:AdminClaimValue=cde-admins",

            // Nothing listens there: the provider is down.
            "--Auth:Oidc:down:DisplayName=Down SSO",
            $"--Auth:Oidc:down:Authority=http://127.0.0.1:{ports[5]}",
            "--Auth:Oidc:down:ClientId=cde-down",
            "--Auth:Oidc:down:RequireHttpsMetadata=false",
            "--Auth:Oidc:down:UserPrefix=down.",

            "--Auth:GitHub:ClientId=cde-github",
            "--Auth:GitHub:ClientSecret=github-secret-for-tests",
            $"--Auth:GitHub:AuthorizationEndpoint={issuer}/auth",
            $"--Auth:GitHub:TokenEndpoint={issuer}/token",
            $"--Auth:GitHub:UserInformationEndpoint={issuer}/me",
            "--Auth:GitHub:Scopes:0=openid",
            "--Auth:GitHub:Scopes:1=profile",
            "--Auth:GitHub:UserPrefix=gh.",
        ]);
        builder.Services.RemoveAll<IWorkspaceRuntime>();
        builder.Services.AddSingleton<IWorkspaceRuntime>(new WorkspaceRuntimeDouble());
        _app = LocalHost.Build(builder);
        await _app.StartAsync();

        object Client(string id, string callback) => new Dictionary<string, object>
        {
            ["client_id"] = id,
            ["client_secret"] = id switch { "cde-oidc" => "oidc-secret-for-tests", _ => "github-secret-for-tests" },
            ["redirect_uris"] = new[] { new Uri(Api, callback).AbsoluteUri },
            ["token_endpoint_auth_method"] = "client_secret_post",
        };
    }

    public async Task DisposeAsync()
    {
        if (_app is not null)
        {
            await _app.StopAsync();
            await _app.DisposeAsync();
        }

        await Provider.DisposeAsync();
        Directory.Delete(DataDir, recursive: true);
    }
}
