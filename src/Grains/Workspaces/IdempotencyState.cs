namespace CloudDevEnv.Grains.Workspaces;

[GenerateSerializer, Alias("cde.IdempotencyState.v1")]
public sealed class IdempotencyState
{
    [Id(0)] public string? WorkspaceId { get; set; }

    [Id(1)] public string? RequestHash { get; set; }

    [Id(2)] public DateTimeOffset ExpiresAt { get; set; }
}
