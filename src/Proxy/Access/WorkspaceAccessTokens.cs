using System.Buffers.Text;
using System.Security.Cryptography;
using CloudDevEnv.Contracts.Owners;
using CloudDevEnv.Contracts.Workspaces;
using CloudDevEnv.Proxy.Hosts;
using Microsoft.Extensions.Options;

namespace CloudDevEnv.Proxy.Access;

internal sealed class WorkspaceAccessTokens(
    SignedValue signer,
    WorkspaceUrls urls,
    IOptions<WorkspaceProxyOptions> options,
    TimeProvider time) : IWorkspaceAccessTokens
{
    public const string SignInPath = "/_cde/signin";

    public Uri CreateSignInUrl(string workspaceId, string owner)
    {
        if (!WorkspaceId.IsValid(workspaceId))
        {
            throw new ArgumentException($"'{workspaceId}' is not a workspace id.", nameof(workspaceId));
        }

        return CreateSignInUrl(workspaceId, workspaceId, owner, "/");
    }

    /// <summary>A sign-in link for one host label (the IDE's or a port's) that lands on <paramref name="returnPath"/>.</summary>
    internal Uri CreateSignInUrl(string workspaceId, string label, string owner, string returnPath)
    {
        if (!OwnerName.IsValid(owner))
        {
            throw new ArgumentException($"'{owner}' is not an owner name.", nameof(owner));
        }

        var token = CreateToken(label, owner);
        var port = label == workspaceId ? (int?)null : int.Parse(label.AsSpan(0, label.IndexOf('-')));
        var query = $"?token={Uri.EscapeDataString(token)}";
        if (returnPath != "/")
        {
            query += $"&return={Uri.EscapeDataString(returnPath)}";
        }

        return new Uri(urls.GetWorkspaceUrl(workspaceId, port), SignInPath.TrimStart('/') + query);
    }

    internal string CreateToken(string label, string owner)
    {
        var nonce = Base64Url.EncodeToString(RandomNumberGenerator.GetBytes(16));
        var expires = time.GetUtcNow() + options.Value.SignInTokenLifetime;
        return signer.Sign(new AccessGrant(AccessGrant.TokenPurpose, label, owner, expires, nonce).Serialize());
    }

    /// <summary>The token's grant if its signature holds and it has not expired; its single use is checked by the caller.</summary>
    internal AccessGrant? ReadToken(string? token)
    {
        var grant = AccessGrant.Parse(signer.Verify(token), AccessGrant.TokenPurpose);
        return grant is not null && grant.ExpiresAt > time.GetUtcNow() ? grant : null;
    }
}
