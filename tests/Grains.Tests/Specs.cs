namespace CloudDevEnv.Grains.Tests;

public static class Specs
{
    /// <summary>A spec with an owner of its own, so that tests sharing a cluster never share a quota.</summary>
    public static WorkspaceSpec New(string? owner = null, string repoUrl = "https://github.com/octo/hello.git", string? image = null, string? gitRef = null) =>
        new(repoUrl, gitRef, owner ?? "user-" + Guid.NewGuid().ToString("N")[..8], image, Resources: null, IdleTimeout: null);
}
