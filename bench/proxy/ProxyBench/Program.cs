using CloudDevEnv.Bench.Proxy;

return args.FirstOrDefault() switch
{
    "upstream" => await UpstreamMode.RunAsync(args[1..]),
    "proxy" => await ProxyMode.RunAsync(args[1..]),
    "ws-clients" => await WebSocketClientsMode.RunAsync(args[1..]),
    _ => Usage(),
};

static int Usage()
{
    Console.Error.WriteLine("usage: ProxyBench upstream <port> | proxy <proxy-port> <control-port> <upstream-url> <silo-port> <gateway-port> | ws-clients <ws-url> <connect-port> <count> [cookie] [origin]");
    return 2;
}
