using System.Buffers.Binary;
using System.Net;

namespace CloudDevEnv.Kubernetes.Manifests.Tests.Rendering;

/// <summary>An IPv4 CIDR block, for reading NetworkPolicy ipBlocks.</summary>
internal readonly record struct Ipv4Cidr(uint Network, int PrefixLength)
{
    private uint Mask => PrefixLength == 0 ? 0 : uint.MaxValue << (32 - PrefixLength);

    private uint Last => Network | ~Mask;

    public static Ipv4Cidr Parse(string text)
    {
        var slash = text.IndexOf('/', StringComparison.Ordinal);
        var address = IPAddress.Parse(slash < 0 ? text : text[..slash]);
        if (address.AddressFamily != System.Net.Sockets.AddressFamily.InterNetwork)
        {
            throw new FormatException($"{text} is not an IPv4 block.");
        }

        var prefix = slash < 0 ? 32 : int.Parse(text[(slash + 1)..], System.Globalization.CultureInfo.InvariantCulture);
        var value = BinaryPrimitives.ReadUInt32BigEndian(address.GetAddressBytes());
        var cidr = new Ipv4Cidr(value, prefix);
        return cidr with { Network = value & cidr.Mask };
    }

    public bool Contains(Ipv4Cidr other) => other.PrefixLength >= PrefixLength && (other.Network & Mask) == Network;

    public bool Overlaps(Ipv4Cidr other) => Network <= other.Last && other.Network <= Last;

    public override string ToString()
    {
        var bytes = new byte[4];
        BinaryPrimitives.WriteUInt32BigEndian(bytes, Network);
        return $"{new IPAddress(bytes)}/{PrefixLength}";
    }
}
