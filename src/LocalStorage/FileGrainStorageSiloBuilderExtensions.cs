using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Orleans.Providers;
using Orleans.Runtime.Hosting;
using Orleans.Storage;

namespace CloudDevEnv.LocalStorage;

/// <summary>Registers <see cref="FileGrainStorage"/> the way Orleans 10 registers its own providers (see
/// <c>AddMemoryGrainStorage</c>): named options post-configured with the host's grain storage serializer,
/// and the provider as a keyed <see cref="IGrainStorage"/> through <c>AddGrainStorage</c>, which also makes
/// it a silo lifecycle participant and, under the name "Default", the unkeyed default.</summary>
public static class FileGrainStorageSiloBuilderExtensions
{
    public static ISiloBuilder AddFileGrainStorageAsDefault(this ISiloBuilder builder, Action<FileStorageOptions> configure) =>
        builder.AddFileGrainStorage(ProviderConstants.DEFAULT_STORAGE_PROVIDER_NAME, configure);

    public static ISiloBuilder AddFileGrainStorage(this ISiloBuilder builder, string name, Action<FileStorageOptions> configure)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        ArgumentNullException.ThrowIfNull(configure);

        var services = builder.Services;
        services.AddOptions<FileStorageOptions>(name).Configure(configure).ValidateOnStart();
        services.AddFileStorageOptionsValidation();
        services.TryAddEnumerable(ServiceDescriptor.Transient<
            IPostConfigureOptions<FileStorageOptions>,
            DefaultStorageProviderSerializerOptionsConfigurator<FileStorageOptions>>());
        services.AddGrainStorage(name, static (provider, key) => new FileGrainStorage(
            key,
            provider.GetRequiredService<IOptionsMonitor<FileStorageOptions>>().Get(key),
            provider.GetRequiredService<ILogger<FileGrainStorage>>()));
        return builder;
    }

    internal static void AddFileStorageOptionsValidation(this IServiceCollection services) =>
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<FileStorageOptions>, FileStorageOptionsValidator>());
}
