namespace CloudDevEnv.Runtime;

/// <summary>Labels every runtime puts on what it creates, so that the grain can adopt it after a crash
/// and operators can find it.</summary>
public static class RuntimeLabels
{
    public const string Managed = "dev.clouddevenv.managed";
    public const string WorkspaceId = "dev.clouddevenv.workspace-id";
    public const string Owner = "dev.clouddevenv.owner";

    /// <summary>Which installation of the platform (one data folder locally, one service in a cluster) made it:
    /// start-up reconciliation looks only at its own, so installations sharing an engine leave each other alone.</summary>
    public const string Installation = "dev.clouddevenv.installation";

    /// <summary>On a companion container (a compose service beside the workspace): the workspace it belongs to. It
    /// carries no <see cref="WorkspaceId"/>, so that it is never taken for the workspace's own instance.</summary>
    public const string CompanionOf = "dev.clouddevenv.companion-of";

    /// <summary>On a companion container: its service name.</summary>
    public const string Companion = "dev.clouddevenv.companion";

    /// <summary>On an instance with a gateway: the port it listens on inside.</summary>
    public const string GatewayPort = "dev.clouddevenv.gateway-port";
}
