using ReClip.Model.Data;
using ReClip.Runtime.Tensors;

namespace ReClip.Model.Eval;

/// <summary>
/// Everything the scores of spec §10–§11 are computed from, as integers: the split-wide confusion matrix (mIoU,
/// pixel accuracy, class-preference score) and the per-distance-bin confusion matrices (space-preference score),
/// with the number of images. Counts of disjoint parts of a split add up to the counts of the whole, exactly and in
/// any order, so a sharded evaluation scores what a single run scores, bit for bit.
/// </summary>
public sealed class EvaluationCounts
{
    public EvaluationCounts(int classes, int bins = SpacePreferenceScore.DefaultBins)
    {
        Metrics = new SegmentationMetrics(classes);
        Space = new SpacePreferenceScore(classes, bins);
    }

    public SegmentationMetrics Metrics { get; }

    public SpacePreferenceScore Space { get; }

    public int Classes => Metrics.Classes;

    public int Images { get; private set; }

    /// <summary>Adds one image: an i32 prediction [H, W] against its label map.</summary>
    public void Accumulate(Tensor prediction, LabelMap labels)
    {
        Metrics.Accumulate(prediction, labels);
        Space.Accumulate(prediction, labels);
        Images++;
    }

    /// <summary>Adds stored counts of <paramref name="images"/> images (a confusion matrix and per-bin matrices of these classes and bins).</summary>
    public void Add(ReadOnlySpan<long> confusion, ReadOnlySpan<long> space, int images)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(images);
        Metrics.Add(confusion);
        Space.Add(space);
        Images = checked(Images + images);
    }

    /// <summary>Adds another part's counts (same classes and bins).</summary>
    public void Merge(EvaluationCounts other)
    {
        ArgumentNullException.ThrowIfNull(other);
        Metrics.Merge(other.Metrics);
        Space.Merge(other.Space);
        Images = checked(Images + other.Images);
    }

    /// <summary>The scores of these counts, named by <paramref name="classNames"/>; <paramref name="seconds"/> is the time they took.</summary>
    public EvaluationReport Report(IReadOnlyList<string> classNames, double seconds)
    {
        ArgumentNullException.ThrowIfNull(classNames);
        if (classNames.Count != Classes)
            throw new ArgumentException($"EvaluationCounts.Report: {classNames.Count} class names for {Classes} classes", nameof(classNames));
        return new EvaluationReport(Metrics.MeanIoU(), Metrics.PixelAccuracy(), classNames, Metrics.PerClassIoU(),
            ClassPreferenceScore.Compute(Metrics), Space.Score(), Images, seconds);
    }
}
