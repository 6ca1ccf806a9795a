using System.Diagnostics;
using ReClip.Runtime.Tensors;

namespace ReClip.Kernels.Checks;

/// <summary>Collects the compared outputs of one check run and times the device call.</summary>
public sealed class CheckOutputs(string op, string testCase)
{
    private readonly List<OpCheckResult> results = [];
    private double milliseconds;

    public IReadOnlyList<OpCheckResult> Results => results;

    /// <summary>Runs <paramref name="call"/> once and remembers its wall time for every output compared afterwards.</summary>
    public void Time(Action call)
    {
        ArgumentNullException.ThrowIfNull(call);
        long start = Stopwatch.GetTimestamp();
        call();
        milliseconds = Stopwatch.GetElapsedTime(start).TotalMilliseconds;
    }

    public void Compare(string output, Tensor got, ReadOnlySpan<float> want, Tolerance tolerance)
    {
        ArgumentNullException.ThrowIfNull(got);
        results.Add(new OpCheckResult(op, testCase, output, Agreement.Measure(got.ToFloatArray(), want, tolerance), tolerance, milliseconds));
    }
}
