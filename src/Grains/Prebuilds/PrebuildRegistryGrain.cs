using CloudDevEnv.Contracts.Prebuilds;
using CloudDevEnv.Grains.Provisioning;
using CloudDevEnv.Grains.Workspaces;
using Orleans.Serialization;

namespace CloudDevEnv.Grains.Prebuilds;

/// <summary>One repository's prebuilt images, one per ref. Kept in the workspaces' storage provider, so that no host has
/// to configure another one. Who may register is the API's decision; what may be registered is checked here, so that
/// in-cluster tools meet the same rules.</summary>
public sealed partial class PrebuildRegistryGrain(
    [PersistentState("prebuilds", StorageNames.Workspaces)] IPersistentState<PrebuildRegistryState> state,
    DeepCopier<PrebuildRegistryState> copier,
    IOptions<WorkspaceOptions> workspaces,
    IOptions<ProvisioningOptions> provisioning,
    TimeProvider time,
    ILogger<PrebuildRegistryGrain> logger) : Grain, IPrebuildRegistryGrain
{
    private string RepoUrl => this.GetPrimaryKeyString();

    public async Task<PrebuildRegistration> RegisterAsync(PrebuildRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (!RepositoryUrl.TryParse(RepoUrl, workspaces.Value.LocalRepoRoots, out _, out var error))
        {
            throw Invalid("repoUrl", error);
        }

        if (request.Ref is not null && !GitRef.IsValid(request.Ref))
        {
            throw Invalid("ref", "ref must be a branch or tag name (letters, digits, '.', '_', '-', '/' and '+'; not starting with '-').");
        }

        if (!WorkspaceSpecValidator.IsImageReference(request.Image))
        {
            throw Invalid("image", "image must be an image reference such as 'ghcr.io/team/app-devcontainer:3f2a9c1'.");
        }

        // Everyone who launches the repository will run it: no user's private build, and only what the operator allows.
        if (ImagePolicy.Refusal(request.Image, WorkspaceActor.Platform, workspaces.Value, provisioning.Value) is { } refusal)
        {
            throw Invalid("image", refusal);
        }

        if (request.ConfigHash is { } hash && !PrebuildConfigHash.IsValid(hash))
        {
            throw Invalid("configHash", "configHash must be the SHA-256 of the devcontainer.json, as 64 lower-case hex digits (sha256sum).");
        }

        var registration = new PrebuildRegistration(RepoUrl, request.Ref, request.Image, request.ConfigHash, time.GetUtcNow(), request.RegisteredBy);
        await state.ChangeAsync(copier, s => s.Registrations[PrebuildRegistryState.KeyOf(request.Ref)] = registration);
        LogRegistered(RepoUrl, request.Ref ?? "(default branch)", request.Image, request.RegisteredBy);
        return registration;
    }

    public Task<PrebuildRegistration?> FindAsync(string? gitRef) =>
        Task.FromResult(state.State.Registrations.GetValueOrDefault(PrebuildRegistryState.KeyOf(gitRef)));

    public Task<ImmutableArray<PrebuildRegistration>> ListAsync() =>
        Task.FromResult<ImmutableArray<PrebuildRegistration>>([.. state.State.Registrations.Values.OrderBy(r => r.Ref is not null).ThenBy(r => r.Ref, StringComparer.Ordinal)]);

    public async Task UnregisterAsync(string? gitRef)
    {
        if (state.State.Registrations.ContainsKey(PrebuildRegistryState.KeyOf(gitRef)))
        {
            await state.ChangeAsync(copier, s => s.Registrations.Remove(PrebuildRegistryState.KeyOf(gitRef)));
        }
    }

    private static WorkspaceRejectedException Invalid(string field, string message) => new(WorkspaceRejection.Invalid, message, field);

    [LoggerMessage(Level = LogLevel.Information, Message = "Prebuild registered for {RepoUrl} at {Ref}: {Image}, by {User}")]
    private partial void LogRegistered(string repoUrl, string @ref, string image, string user);
}
