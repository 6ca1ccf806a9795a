namespace ReClip.Model.Eval;

/// <summary>
/// The scores of one evaluation over a split (spec §10 step 6, §11; definitions in docs/METRICS.md): mIoU over all
/// classes (the reference's average), pixel accuracy, IoU per class in class order, the class- and space-preference
/// scores, and the throughput.
/// </summary>
public sealed record EvaluationReport(
    double MeanIoU,
    double PixelAccuracy,
    IReadOnlyList<string> ClassNames,
    IReadOnlyList<double> ClassIoU,
    double ClassPreference,
    double SpacePreference,
    int Images,
    double Seconds)
{
    public double ImagesPerSecond => Images / Math.Max(Seconds, 1e-9);
}
