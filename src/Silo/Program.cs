using CloudDevEnv.Silo.Hosting;
using CloudDevEnv.Silo.Hosting.Cluster;
using Microsoft.Extensions.Options;

// One binary, every role: local mode (the default: silo, API, proxy and dashboard in one process), one process of
// cluster mode (--Host:Role=Silo|Api|Proxy), or the schema command (migrate).
try
{
    if (args is ["migrate", ..])
    {
        return await ClusterHost.MigrateAsync(args[1..], CancellationToken.None);
    }

    var role = new ConfigurationBuilder().AddEnvironmentVariables().AddCommandLine(args).Build()
        .GetSection(HostProcessOptions.SectionName).Get<HostProcessOptions>()?.Role ?? HostRole.All;
    var app = role == HostRole.All
        ? LocalHost.Build(LocalHost.CreateBuilder(args))
        : await ClusterHost.BuildAsync(args, CancellationToken.None);
    await app.RunAsync();
}
catch (Exception e) when (e is StartupException or OptionsValidationException)
{
    // A configuration the operator can fix: say what, without a stack trace.
    Console.Error.WriteLine($"clouddevenv: {e.Message}");
    return 1;
}

return 0;
