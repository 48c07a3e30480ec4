namespace CloudDevEnv.LocalStorage;

/// <summary>Which grains a reminder service owns: the ring range (begin, end] of uniform grain hashes,
/// wrapping past uint.MaxValue when begin >= end, and the whole ring when begin == end. Same rule as
/// Orleans' SingleRange, which the in-memory reminder table uses.</summary>
internal static class RingRange
{
    public static bool Contains(uint begin, uint end, uint hash) =>
        begin < end
            ? hash > begin && hash <= end
            : hash > begin || hash <= end;
}
