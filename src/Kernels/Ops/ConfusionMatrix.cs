using ReClip.Runtime.Tensors;
using ReClip.Runtime.Threading;

namespace ReClip.Kernels.Ops;

/// <summary>
/// Accumulates a confusion matrix over a split: counts[gt·C + pred] += 1 for every pixel whose ground truth is
/// not the ignore label (255), from int32 prediction and ground-truth maps of the same shape (spec §10 step 6:
/// intersections, predictions and ground truth per class, and §11's class-preference score, all follow from
/// it; 64-bit counts as the split-wide float64 totals need). A ground truth outside [0, C) that is not the
/// ignore label, a prediction outside [0, C) that is not the ignore label, or a prediction equal to the ignore
/// label where the ground truth is counted, is an error naming the value and its pixel index (the first such
/// pixel); the counts are left unchanged then.
/// </summary>
public static partial class ConfusionMatrix
{
    /// <summary>The ignore label of the VOC/Context/ADE annotations (spec §10 step 6).</summary>
    public const int IgnoreLabel = 255;

    /// <summary>The definition: validates every pixel, then adds one count per counted pixel.</summary>
    public static void Reference(ReadOnlySpan<int> prediction, ReadOnlySpan<int> groundTruth, Span<long> counts, int classes, int ignore = IgnoreLabel)
    {
        RequireCounts(counts.Length, classes);
        for (int i = 0; i < groundTruth.Length; i++)
            if (Problem(prediction[i], groundTruth[i], i, classes, ignore) is string problem)
                throw new ArgumentException(problem);
        for (int i = 0; i < groundTruth.Length; i++)
            if (groundTruth[i] != ignore)
                counts[groundTruth[i] * classes + prediction[i]]++;
    }

    /// <summary>counts[gt·C + pred] += 1 over the pixels of two same-shaped i32 maps whose ground truth is not <paramref name="ignore"/>.</summary>
    public static void Accumulate(Tensor prediction, Tensor groundTruth, long[] counts, int classes, int ignore = IgnoreLabel)
    {
        ArgumentNullException.ThrowIfNull(counts);
        RequireCounts(counts.Length, classes);
        Shape.Require("ConfusionMatrix prediction", groundTruth.Shape, prediction.Shape);
        if (!groundTruth.Device.IsCpu)
        {
            AccumulateCuda(prediction, groundTruth, counts, classes, ignore);
            return;
        }
        OpGuard.Cpu("ConfusionMatrix", DType.I32, prediction, groundTruth);
        var tasks = new List<(int Start, long[] Counts, int FirstError)>();
        unsafe
        {
            nint ap = (nint)prediction.Pointer<int>(), ag = (nint)groundTruth.Pointer<int>();
            // Each task counts its pixel range into its own matrix (no sharing in the hot loop); integer sums are
            // exact, so merging them afterwards gives the same counts for any thread count. A pixel is O(1) work,
            // so only maps above ParallelRows' inline threshold (~65k pixels) are split.
            ParallelRows.For(checked((int)groundTruth.ElementCount), 1, (start, end) =>
            {
                long[] local = new long[counts.Length];
                int firstError = CountRange((int*)ap, (int*)ag, start, end, local, classes, ignore);
                lock (tasks)
                    tasks.Add((start, local, firstError));
            });
            tasks.Sort((a, b) => a.Start.CompareTo(b.Start));
            foreach ((_, _, int firstError) in tasks)
                if (firstError >= 0)
                    throw new ArgumentException(Problem(((int*)ap)[firstError], ((int*)ag)[firstError], firstError, classes, ignore));
        }
        foreach ((_, long[] local, _) in tasks)
            for (int i = 0; i < counts.Length; i++)
                counts[i] += local[i];
    }

    /// <summary>Counts pixels [start, end) into <paramref name="local"/>; returns the first invalid pixel, or −1.</summary>
    private static unsafe int CountRange(int* prediction, int* groundTruth, int start, int end, long[] local, int classes, int ignore)
    {
        for (int i = start; i < end; i++)
        {
            int gt = groundTruth[i], pred = prediction[i];
            if (gt == ignore)
            {
                if ((uint)pred >= (uint)classes && pred != ignore)
                    return i;
                continue;
            }
            // One unsigned comparison per label rejects both negative values and values ≥ C.
            if ((uint)gt >= (uint)classes || (uint)pred >= (uint)classes)
                return i;
            local[gt * classes + pred]++;
        }
        return -1;
    }

    /// <summary>What is wrong with one pixel's labels, as the error message, or null when it is valid (counted or ignored).</summary>
    private static string? Problem(int prediction, int groundTruth, long pixel, int classes, int ignore)
    {
        bool predictionIsClass = prediction >= 0 && prediction < classes;
        if (groundTruth != ignore && (groundTruth < 0 || groundTruth >= classes))
            return $"ConfusionMatrix: ground truth {groundTruth} at pixel {pixel} is neither a class in [0, {classes}) nor the ignore label {ignore}";
        if (!predictionIsClass && prediction != ignore)
            return $"ConfusionMatrix: prediction {prediction} at pixel {pixel} is neither a class in [0, {classes}) nor the ignore label {ignore}";
        if (!predictionIsClass && groundTruth != ignore)
            return $"ConfusionMatrix: prediction {prediction} at pixel {pixel} is the ignore label, but the ground truth there is class {groundTruth} and needs a predicted class in [0, {classes})";
        return null;
    }

    private static void RequireCounts(int length, int classes)
    {
        if (classes <= 0 || length != (long)classes * classes)
            throw new ArgumentException($"ConfusionMatrix: counts hold {length} values; {classes} classes need {(long)classes * classes} (C×C)");
    }
}
