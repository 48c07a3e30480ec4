using CloudDevEnv.Security;
using Microsoft.Extensions.Options;

namespace CloudDevEnv.Proxy.Access;

/// <summary>The HMAC key for tokens and cookies: from <c>Proxy:SigningKey</c>, or kept in <c>Proxy:SigningKeyFile</c>
/// (created with a random key when missing, readable by the owner only).</summary>
internal sealed class SigningKey(IOptions<WorkspaceProxyOptions> options)
{
    public byte[] Bytes { get; } = KeyMaterial.Read(options.Value.SigningKey, options.Value.SigningKeyFile, "Proxy:SigningKey");
}
