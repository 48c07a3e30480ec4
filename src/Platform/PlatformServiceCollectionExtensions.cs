using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace CloudDevEnv.Platform;

public static class PlatformServiceCollectionExtensions
{
    /// <summary>Binds <see cref="PublicAddressOptions"/> from its section, validated at start-up. Each part of the
    /// platform that needs the address calls it; binding it twice in one process is harmless.</summary>
    public static IServiceCollection AddPublicAddress(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<PublicAddressOptions>()
            .Bind(configuration.GetSection(PublicAddressOptions.SectionName))
            .ValidateDataAnnotations()
            .ValidateOnStart();
        return services;
    }
}
