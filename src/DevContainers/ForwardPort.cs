using System.Globalization;

namespace CloudDevEnv.DevContainers;

/// <summary>An entry of <c>forwardPorts</c>: a port of the dev container, or <c>"host:port"</c> for a port
/// of another host the container can reach (e.g. <c>"db:5432"</c>).</summary>
/// <param name="Host">Null for a plain port number.</param>
public sealed record ForwardPort(string? Host, int Port)
{
    /// <summary>As devcontainer.json writes it: <c>3000</c> or <c>db:5432</c>.</summary>
    public override string ToString() =>
        Host is null ? Port.ToString(CultureInfo.InvariantCulture) : $"{Host}:{Port.ToString(CultureInfo.InvariantCulture)}";
}
