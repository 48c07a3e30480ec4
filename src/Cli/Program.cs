using CloudDevEnv.Cli;

return await Cde.RunAsync(args, Console.Out, Console.Error, Environment.GetEnvironmentVariable, Console.IsOutputRedirected, CancellationToken.None);
