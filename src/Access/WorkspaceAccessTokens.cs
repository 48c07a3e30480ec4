using System.Buffers.Text;
using System.Security.Cryptography;
using CloudDevEnv.Contracts.Owners;
using CloudDevEnv.Contracts.Workspaces;
using CloudDevEnv.Platform;
using Microsoft.Extensions.Options;

namespace CloudDevEnv.Access;

/// <summary>Sign-in tokens: minted here for the API, read back by the proxy, which records each one's single use.</summary>
public sealed class WorkspaceAccessTokens(
    SignedValue signer,
    WorkspaceUrls urls,
    IOptions<WorkspaceAccessOptions> options,
    TimeProvider time) : IWorkspaceAccessTokens
{
    public const string SignInPath = "/_cde/signin";

    public Uri CreateSignInUrl(string workspaceId, string owner) => CreateSignInUrl(workspaceId, null, owner, "/");

    public Uri CreateSignInUrl(string workspaceId, int? port, string owner, string returnPath)
    {
        if (!WorkspaceId.IsValid(workspaceId))
        {
            throw new ArgumentException($"'{workspaceId}' is not a workspace id.", nameof(workspaceId));
        }

        if (port is < 1 or > 65535)
        {
            throw new ArgumentOutOfRangeException(nameof(port), port, "A port is 1 to 65535.");
        }

        if (!OwnerName.IsValid(owner))
        {
            throw new ArgumentException($"'{owner}' is not an owner name.", nameof(owner));
        }

        var label = port is null ? workspaceId : $"{port}-{workspaceId}";
        var token = CreateToken(label, owner);
        returnPath = ReturnPath.Sanitize(returnPath);
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
    public AccessGrant? ReadToken(string? token)
    {
        var grant = AccessGrant.Parse(signer.Verify(token), AccessGrant.TokenPurpose);
        return grant is not null && grant.ExpiresAt > time.GetUtcNow() ? grant : null;
    }
}
