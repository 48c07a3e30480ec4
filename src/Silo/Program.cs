using CloudDevEnv.Silo.Hosting;
using Microsoft.Extensions.Options;

try
{
    var app = LocalHost.Build(LocalHost.CreateBuilder(args));
    await app.RunAsync();
}
catch (Exception e) when (e is StartupException or OptionsValidationException)
{
    // A configuration the operator can fix: say what, without a stack trace.
    Console.Error.WriteLine($"clouddevenv: {e.Message}");
    return 1;
}

return 0;
