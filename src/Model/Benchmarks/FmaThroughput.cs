using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using ReClip.Runtime.Threading;

namespace ReClip.Model.Benchmarks;

/// <summary>
/// The multiply-add throughput the compute threads reach together, measured: every thread runs twelve independent
/// chains of vector FMAs on registers only (no memory traffic; twelve chains cover a 4-cycle latency on two pipes).
/// This is the ceiling SGEMM can approach at the clock the cores hold under full load. The nominal peak of
/// <see cref="PeakFlops"/> reads the clock a virtual machine reports (2445 MHz on our 2-core EPYC, whose cores run
/// near 3 GHz under load), so SGEMM could show more than 100 % of it.
/// </summary>
public static class FmaThroughput
{
    private const int ChainsPerIteration = 12;

    public static double GigaFlops(TimeSpan minimumTime, ComputePool? pool = null)
    {
        ComputePool threads = pool ?? ComputePool.Shared;
        long iterations = 1 << 16;
        while (true)
        {
            var job = new Chains(iterations, threads.Threads);
            long start = Stopwatch.GetTimestamp();
            threads.Run(threads.Threads, job);
            double seconds = Stopwatch.GetElapsedTime(start).TotalSeconds;
            if (seconds >= minimumTime.TotalSeconds)
                return threads.Threads * (double)iterations * ChainsPerIteration * 2 * LanesPerFma / seconds / 1e9;
            // Grow towards the requested time in one or two steps (a call this short is dominated by start-up).
            iterations = (long)(iterations * Math.Clamp(1.2 * minimumTime.TotalSeconds / Math.Max(seconds, 1e-6), 2, 64));
        }
    }

    private static int LanesPerFma => Vector512.IsHardwareAccelerated ? Vector512<float>.Count : Vector256<float>.Count;

    private sealed class Chains(long iterations, int tasks) : IParallelJob
    {
        /// <summary>Where each task's chains end, kept so the JIT cannot drop them.</summary>
        public float[] Ends { get; } = new float[tasks];

        public void Execute(int task) =>
            Ends[task] = Vector512.IsHardwareAccelerated ? Run<Fma512, Vector512<float>>(iterations) : Run<Fma256, Vector256<float>>(iterations);
    }

    /// <summary>
    /// x·a + b with 0 &lt; a &lt; 1 and b &gt; 0: each chain moves towards b / (1 − a) and stays there, normal and finite
    /// however long it runs (no infinities or subnormals to slow a pipe). Generic over
    /// the vector width; the JIT compiles one loop per struct with the operations inlined, all twelve chains in registers.
    /// </summary>
    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    private static float Run<TFma, TVector>(long iterations) where TFma : IFma<TVector> where TVector : struct
    {
        TVector a = TFma.Broadcast(0.99999994f), b = TFma.Broadcast(0.5f);
        TVector c0 = a, c1 = b, c2 = a, c3 = b, c4 = a, c5 = b, c6 = a, c7 = b, c8 = a, c9 = b, c10 = a, c11 = b;
        for (long i = 0; i < iterations; i++)
        {
            c0 = TFma.MultiplyAdd(c0, a, b); c1 = TFma.MultiplyAdd(c1, a, b);
            c2 = TFma.MultiplyAdd(c2, a, b); c3 = TFma.MultiplyAdd(c3, a, b);
            c4 = TFma.MultiplyAdd(c4, a, b); c5 = TFma.MultiplyAdd(c5, a, b);
            c6 = TFma.MultiplyAdd(c6, a, b); c7 = TFma.MultiplyAdd(c7, a, b);
            c8 = TFma.MultiplyAdd(c8, a, b); c9 = TFma.MultiplyAdd(c9, a, b);
            c10 = TFma.MultiplyAdd(c10, a, b); c11 = TFma.MultiplyAdd(c11, a, b);
        }
        // Plain adds, not a span of the chains: a span would take their addresses and keep them in memory in the loop.
        TVector sum = TFma.Add(TFma.Add(TFma.Add(c0, c1), TFma.Add(c2, c3)), TFma.Add(TFma.Add(c4, c5), TFma.Add(c6, c7)));
        return TFma.Sum(TFma.Add(sum, TFma.Add(TFma.Add(c8, c9), TFma.Add(c10, c11))));
    }

    private interface IFma<TVector> where TVector : struct
    {
        static abstract TVector Broadcast(float value);

        static abstract TVector MultiplyAdd(TVector x, TVector a, TVector b);

        static abstract TVector Add(TVector x, TVector y);

        static abstract float Sum(TVector x);
    }

    private readonly struct Fma256 : IFma<Vector256<float>>
    {
        public static Vector256<float> Broadcast(float value) => Vector256.Create(value);

        public static Vector256<float> MultiplyAdd(Vector256<float> x, Vector256<float> a, Vector256<float> b) => Vector256.FusedMultiplyAdd(x, a, b);

        public static Vector256<float> Add(Vector256<float> x, Vector256<float> y) => x + y;

        public static float Sum(Vector256<float> x) => Vector256.Sum(x);
    }

    private readonly struct Fma512 : IFma<Vector512<float>>
    {
        public static Vector512<float> Broadcast(float value) => Vector512.Create(value);

        public static Vector512<float> MultiplyAdd(Vector512<float> x, Vector512<float> a, Vector512<float> b) => Vector512.FusedMultiplyAdd(x, a, b);

        public static Vector512<float> Add(Vector512<float> x, Vector512<float> y) => x + y;

        public static float Sum(Vector512<float> x) => Vector512.Sum(x);
    }
}
