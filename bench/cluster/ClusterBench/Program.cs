using CloudDevEnv.Bench.Cluster;

return args.FirstOrDefault() switch
{
    "silo" => await SiloMode.RunAsync(args[1..]),
    "run" => await RunMode.RunAsync(args[1..]),
    _ => Usage(),
};

static int Usage()
{
    Console.Error.WriteLine("usage: ClusterBench run <server connection string> | silo <silo-port> <gateway-port> <connection string> <cluster id>");
    return 2;
}
