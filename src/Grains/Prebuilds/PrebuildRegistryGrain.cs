using CloudDevEnv.Contracts.Prebuilds;
using Orleans.Serialization;

namespace CloudDevEnv.Grains.Prebuilds;

/// <summary>One repository's (and ref's) prebuilt image. Kept in the workspaces' storage provider, so that no
/// host has to configure another one.</summary>
public sealed partial class PrebuildRegistryGrain(
    [PersistentState("prebuild", StorageNames.Workspaces)] IPersistentState<PrebuildRegistryState> state,
    DeepCopier<PrebuildRegistryState> copier,
    TimeProvider time,
    ILogger<PrebuildRegistryGrain> logger) : Grain, IPrebuildRegistryGrain
{
    private string Key => this.GetPrimaryKeyString();

    public async Task<PrebuildRegistration> RegisterAsync(string image)
    {
        if (string.IsNullOrWhiteSpace(image) || image.Any(char.IsWhiteSpace) || image.Length > 512)
        {
            throw new ArgumentException("image must be an image reference without spaces, at most 512 characters.", nameof(image));
        }

        await state.ChangeAsync(copier, s =>
        {
            s.Image = image;
            s.RegisteredAt = time.GetUtcNow();
        });
        LogRegistered(Key, image);
        return new PrebuildRegistration(Key, image, state.State.RegisteredAt);
    }

    public Task<PrebuildRegistration?> GetAsync() =>
        Task.FromResult(state.State.Image is { } image ? new PrebuildRegistration(Key, image, state.State.RegisteredAt) : null);

    public async Task UnregisterAsync()
    {
        if (state.RecordExists)
        {
            await state.ClearStateAsync();
        }

        state.State = new PrebuildRegistryState();
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Prebuild registered for {Key}: {Image}")]
    private partial void LogRegistered(string key, string image);
}
