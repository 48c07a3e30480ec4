namespace CloudDevEnv.Api.Workspaces;

/// <summary>A size a user may launch a workspace with, set by the operator (<c>Api:MachineClasses:&lt;name&gt;</c>), as
/// Codespaces offers machine types.</summary>
public sealed class MachineClass
{
    public double Cpus { get; set; }

    public long MemoryMiB { get; set; }
}

/// <summary>A machine class as <c>GET /api/machine-classes</c> lists it.</summary>
public sealed record MachineClassResource(string Name, double Cpus, long MemoryBytes);
