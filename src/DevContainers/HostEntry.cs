namespace CloudDevEnv.DevContainers;

/// <summary>An <c>--add-host</c> entry.</summary>
/// <param name="Address">An IP address, or Docker's <c>host-gateway</c>.</param>
public sealed record HostEntry(string Host, string Address)
{
    public override string ToString() => $"{Host}:{Address}";
}
