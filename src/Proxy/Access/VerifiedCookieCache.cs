using System.Collections.Concurrent;
using System.Diagnostics.CodeAnalysis;

namespace CloudDevEnv.Proxy.Access;

/// <summary>Access cookies whose signature has already been checked, keyed by the cookie's whole value, so that a
/// browser's every request does not pay for base64 decoding, an HMAC and a parse again. Only a value that verified
/// is ever added; a value differing in one character is another key and is verified afresh. Expiry is checked on
/// every hit, and the label binding is left to the caller, as for a value just verified.</summary>
/// <remarks>Bounded: when full, expired entries go first, then the one expiring soonest (an older cookie of a
/// browser that has since received its renewal). Lookups take no lock; additions, rare, take one.</remarks>
internal sealed class VerifiedCookieCache
{
    public const int DefaultCapacity = 1024;

    private readonly ConcurrentDictionary<string, AccessGrant> _grants = new(StringComparer.Ordinal);
    private readonly Lock _writes = new();
    private readonly int _capacity;

    // Only changed under _writes: ConcurrentDictionary.Count takes every bucket lock.
    private int _count;

    public VerifiedCookieCache(int capacity = DefaultCapacity)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(capacity, 1);
        _capacity = capacity;
    }

    public int Count => Volatile.Read(ref _count);

    /// <summary>The grant of a cookie value verified before and not expired at <paramref name="now"/>.</summary>
    public bool TryGet(string value, DateTimeOffset now, [NotNullWhen(true)] out AccessGrant? grant)
    {
        if (_grants.TryGetValue(value, out grant))
        {
            if (grant.ExpiresAt > now)
            {
                return true;
            }

            Remove(value);
        }

        grant = null;
        return false;
    }

    /// <summary>Remembers <paramref name="grant"/> for <paramref name="value"/>, whose signature the caller has verified.</summary>
    public void Add(string value, AccessGrant grant, DateTimeOffset now)
    {
        if (grant.ExpiresAt <= now)
        {
            return;
        }

        lock (_writes)
        {
            if (_grants.ContainsKey(value))
            {
                return;
            }

            if (_count >= _capacity)
            {
                EvictOne(now);
            }

            _grants[value] = grant;
            _count++;
        }
    }

    private void Remove(string value)
    {
        lock (_writes)
        {
            if (_grants.TryRemove(value, out _))
            {
                _count--;
            }
        }
    }

    // Under _writes. One pass over at most _capacity entries, on the miss path of a full cache only.
    private void EvictOne(DateTimeOffset now)
    {
        string? soonest = null;
        var soonestExpiry = DateTimeOffset.MaxValue;
        foreach (var (key, grant) in _grants)
        {
            if (grant.ExpiresAt <= now)
            {
                if (_grants.TryRemove(key, out _))
                {
                    _count--;
                }

                continue;
            }

            if (grant.ExpiresAt < soonestExpiry)
            {
                (soonest, soonestExpiry) = (key, grant.ExpiresAt);
            }
        }

        if (_count >= _capacity && soonest is not null && _grants.TryRemove(soonest, out _))
        {
            _count--;
        }
    }
}
