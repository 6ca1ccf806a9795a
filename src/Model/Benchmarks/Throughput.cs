using System.Diagnostics;

namespace ReClip.Model.Benchmarks;

/// <summary>Calls per second of a workload: warm-up calls first (JIT tiers, packed weights, pools), then timed calls
/// until both a minimum count and a minimum time are reached, so slow machines are not kept waiting for long.</summary>
public static class Throughput
{
    public static double PerSecond(Action run, int warmupCalls, int minimumCalls, TimeSpan minimumTime)
    {
        ArgumentNullException.ThrowIfNull(run);
        for (int i = 0; i < warmupCalls; i++)
            run();
        long start = Stopwatch.GetTimestamp();
        int calls = 0;
        while (calls < minimumCalls || Stopwatch.GetElapsedTime(start) < minimumTime)
        {
            run();
            calls++;
        }
        return calls / Stopwatch.GetElapsedTime(start).TotalSeconds;
    }
}
