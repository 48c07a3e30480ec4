using CloudDevEnv.Grains.Ports;

namespace CloudDevEnv.Grains.Tests;

public sealed class ListeningPortsTests
{
    [Fact]
    public void Listening_rows_of_both_tables_give_their_ports_and_connections_do_not()
    {
        // As the kernel prints them: a header, a wildcard listener on 3000, a loopback one on 13337, an established
        // connection from 3000, an IPv6 wildcard listener on 8080.
        var rows = new[]
        {
            "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode",
            "   0: 00000000:0BB8 00000000:0000 0A 00000000:00000000 00:00000000 00000000  1000        0 41",
            "   1: 0100007F:3419 00000000:0000 0A 00000000:00000000 00:00000000 00000000  1000        0 42",
            "   2: 0100007F:0BB8 0100007F:D3A2 01 00000000:00000000 00:00000000 00000000  1000        0 43",
            "   0: 00000000000000000000000000000000:1F90 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000  1000 0 44",
        };
        Assert.Equal([3000, 8080, 13337], ListeningPorts.Parse(rows));

        // What the workspace's shell prints: the local addresses of the listening rows alone.
        Assert.Equal([22, 5173], ListeningPorts.Parse(["0100007F:1435", "00000000:0016", "0100007F:1435", "", "garbage", "00000000:0000"]));
    }
}
