using CloudDevEnv.Silo.Hosting;

var app = LocalHost.Build(LocalHost.CreateBuilder(args));
await app.RunAsync();
