namespace CloudDevEnv.Runtime;

/// <summary>What the proxy and the workspace gateway (<c>images/workspace/gateway.mjs</c>) say to each other, in one
/// place for both sides' code (the gateway's own copy of these names is in its script).</summary>
public static class GatewayProtocol
{
    /// <summary>The request header that must carry the workspace's gateway secret; the gateway removes it.</summary>
    public const string SecretHeader = "X-CDE-Gateway-Secret";

    /// <summary>The request header that names where a request goes: <see cref="IdeTarget"/>, or a port number.</summary>
    public const string TargetHeader = "X-CDE-Target";

    public const string IdeTarget = "ide";

    /// <summary>On the gateway's own 502 when nothing listens on the port a request named (value <see cref="NoListener"/>).</summary>
    public const string StatusHeader = "X-CDE-Gateway";

    public const string NoListener = "no-listener";
}
