using ReClip.Kernels.Ops;
using ReClip.Model.Data;
using ReClip.Runtime.Tensors;

namespace ReClip.Model.Eval;

/// <summary>How the per-class IoUs are averaged into mIoU.</summary>
public enum MeanIoUAverage
{
    /// <summary>
    /// ReCLIP++'s <c>utils/test_mIoU.py</c> (spec §10 step 6): Σ_c IoU_c / C over all C classes, with IoU_c = 0
    /// where the union is empty, so a class absent from both ground truth and prediction lowers the mean.
    /// </summary>
    AllClasses,

    /// <summary>mmseg's <c>np.nanmean</c>: the mean over the classes whose union is not empty.</summary>
    NonEmptyUnions,
}

/// <summary>
/// The split-wide confusion matrix of a semantic-segmentation evaluation and the metrics that follow from it
/// (spec §10 step 6). counts[gt·C + pred] holds 64-bit pixel counts accumulated by the ConfusionMatrix op,
/// ground truth 255 ignored. The reference accumulates float64 histograms, which are exact integers below
/// 2⁵³; integer counts are the same numbers, and adding two accumulators (sharded evaluation) is exact.
/// </summary>
public sealed class SegmentationMetrics
{
    private readonly long[] counts;

    public SegmentationMetrics(int classes)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(classes);
        Classes = classes;
        counts = new long[checked(classes * classes)];
    }

    public int Classes { get; }

    /// <summary>The confusion matrix, row = ground-truth class, column = predicted class.</summary>
    public ReadOnlySpan<long> Counts => counts;

    public long this[int groundTruth, int prediction] => counts[groundTruth * Classes + prediction];

    /// <summary>Adds one image: i32 prediction and ground-truth maps of the same shape, ground truth 255 ignored.</summary>
    public void Accumulate(Tensor prediction, Tensor groundTruth) => ConfusionMatrix.Accumulate(prediction, groundTruth, counts, Classes);

    /// <summary>Adds one image: an i32 prediction [H, W] against a label map of the same size.</summary>
    public void Accumulate(Tensor prediction, LabelMap groundTruth)
    {
        ArgumentNullException.ThrowIfNull(groundTruth);
        using Tensor truth = LabelTensor(groundTruth);
        Accumulate(prediction, truth);
    }

    /// <summary>Adds another accumulator's counts (an evaluation shard of the same classes): exact integer sums.</summary>
    public void Merge(SegmentationMetrics other)
    {
        ArgumentNullException.ThrowIfNull(other);
        if (other.Classes != Classes)
            throw new ArgumentException($"SegmentationMetrics.Merge: {other.Classes} classes cannot merge into {Classes}", nameof(other));
        Add(other.counts);
    }

    /// <summary>Adds a stored confusion matrix of the same classes (row = ground truth), e.g. read from a shard file.</summary>
    public void Add(ReadOnlySpan<long> other)
    {
        if (other.Length != counts.Length)
            throw new ArgumentException($"SegmentationMetrics.Add: {other.Length} counts do not form a {Classes}×{Classes} confusion matrix", nameof(other));
        for (int i = 0; i < counts.Length; i++)
            counts[i] = checked(counts[i] + other[i]);
    }

    /// <summary>I_c: pixels of ground-truth class c predicted as c.</summary>
    public long Intersection(int c) => counts[c * Classes + c];

    /// <summary>U_c = |GT = c| + |pred = c| − I_c.</summary>
    public long Union(int c)
    {
        long union = -Intersection(c);
        for (int j = 0; j < Classes; j++)
            union += counts[c * Classes + j] + counts[j * Classes + c];
        return union;
    }

    /// <summary>IoU_c = I_c / U_c in double; 0 where U_c = 0 (the reference's NaN → 0).</summary>
    public double IoU(int c)
    {
        long union = Union(c);
        return union == 0 ? 0 : (double)Intersection(c) / union;
    }

    public double[] PerClassIoU()
    {
        double[] iou = new double[Classes];
        for (int c = 0; c < Classes; c++)
            iou[c] = IoU(c);
        return iou;
    }

    /// <summary>
    /// mIoU as a fraction. The default is the spec's Σ IoU_c / C; <see cref="MeanIoUAverage.NonEmptyUnions"/> is
    /// mmseg's nanmean, NaN when no class has a pixel. The two agree whenever every class occurs in the split.
    /// </summary>
    public double MeanIoU(MeanIoUAverage average = MeanIoUAverage.AllClasses)
    {
        double sum = 0;
        int averaged = 0;
        for (int c = 0; c < Classes; c++)
        {
            if (average == MeanIoUAverage.NonEmptyUnions && Union(c) == 0)
                continue;
            sum += IoU(c);
            averaged++;
        }
        return average == MeanIoUAverage.AllClasses ? sum / Classes : averaged == 0 ? double.NaN : sum / averaged;
    }

    /// <summary>Counted pixels (ground truth not ignored).</summary>
    public long Pixels
    {
        get
        {
            long total = 0;
            foreach (long count in counts)
                total += count;
            return total;
        }
    }

    /// <summary>Σ_c I_c / counted pixels; NaN before any pixel was counted.</summary>
    public double PixelAccuracy()
    {
        long correct = 0;
        for (int c = 0; c < Classes; c++)
            correct += Intersection(c);
        long pixels = Pixels;
        return pixels == 0 ? double.NaN : (double)correct / pixels;
    }

    /// <summary>A label map as the i32 [H, W] tensor the ConfusionMatrix op reads.</summary>
    internal static Tensor LabelTensor(LabelMap labels)
    {
        Tensor tensor = Tensor.Empty([labels.Height, labels.Width], DType.I32);
        Span<int> values = tensor.AsSpan<int>();
        for (int i = 0; i < values.Length; i++)
            values[i] = labels.Labels[i];
        return tensor;
    }
}
