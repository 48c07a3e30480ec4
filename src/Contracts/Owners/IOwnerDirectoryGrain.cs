namespace CloudDevEnv.Contracts.Owners;

/// <summary>Every owner who has had a workspace, for the administrators' view of all workspaces. One grain
/// (<see cref="Key"/>); written once per owner, so it stays off the path of ordinary launches.</summary>
[Alias("cde.IOwnerDirectoryGrain")]
public interface IOwnerDirectoryGrain : IGrainWithStringKey
{
    public const string Key = "all";

    /// <summary>Adds the owner. Idempotent.</summary>
    [Alias("Register")]
    Task RegisterAsync(string owner);

    [Alias("List")]
    Task<ImmutableArray<string>> ListAsync();
}
