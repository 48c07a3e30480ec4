using CloudDevEnv.Runtime;

namespace CloudDevEnv.Api.Tests;

/// <summary>What a failed test leaves on the engine: the containers, networks and volumes of its workspaces (their
/// clone helpers included), removed by workspace id, so that nothing else on the engine is touched.</summary>
public static class EngineLeftovers
{
    public static async Task RemoveAsync(IEnumerable<string> workspaceIds)
    {
        foreach (var id in workspaceIds)
        {
            foreach (var owned in new[] { id, id + "-prepare" })
            {
                var filter = $"label={RuntimeLabels.WorkspaceId}={owned}";
                foreach (var (list, remove) in new[] { (new[] { "ps", "-aq" }, new[] { "rm", "-f" }), (["network", "ls", "-q"], ["network", "rm"]), (["volume", "ls", "-q"], ["volume", "rm", "-f"]) })
                {
                    var (_, found) = await DockerCli.TryRunAsync([.. list, "--filter", filter]);
                    foreach (var name in found.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
                    {
                        await DockerCli.TryRunAsync([.. remove, name]);
                    }
                }
            }
        }
    }
}
