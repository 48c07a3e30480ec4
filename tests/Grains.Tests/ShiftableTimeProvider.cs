namespace CloudDevEnv.Grains.Tests;

/// <summary>A test double of the clock: real time plus an offset a test can push forward. Timers still fire
/// in real time (the base class's timers), so the reconcile loop runs as usual while "now" jumps ahead.</summary>
public sealed class ShiftableTimeProvider : TimeProvider
{
    private long _offsetTicks;

    public TimeSpan Offset => TimeSpan.FromTicks(Interlocked.Read(ref _offsetTicks));

    public void Advance(TimeSpan by) => Interlocked.Add(ref _offsetTicks, by.Ticks);

    public override DateTimeOffset GetUtcNow() => System.GetUtcNow() + Offset;
}
