namespace ReClip.Model.Eval;

/// <summary>
/// The paper's class-preference score (spec §11; definition in docs/METRICS.md): with M the row-normalised
/// confusion matrix (M[c, j] = share of ground-truth-c pixels predicted as j), the mean over the classes present
/// in the ground truth of M[c, c] − max_{j≠c} M[c, j]. In [−1, 1]; higher = less biased towards other classes.
/// </summary>
public static class ClassPreferenceScore
{
    /// <summary>The score of a split's confusion matrix; NaN when no ground-truth pixel was counted.</summary>
    public static double Compute(SegmentationMetrics metrics)
    {
        ArgumentNullException.ThrowIfNull(metrics);
        return Compute(metrics.Counts, metrics.Classes);
    }

    /// <summary>counts: C×C, row = ground truth, column = prediction.</summary>
    public static double Compute(ReadOnlySpan<long> counts, int classes)
    {
        double[] perClass = PerClass(counts, classes);
        double sum = 0;
        int present = 0;
        foreach (double score in perClass)
            if (!double.IsNaN(score))
            {
                sum += score;
                present++;
            }
        return present == 0 ? double.NaN : sum / present;
    }

    /// <summary>M[c, c] − max_{j≠c} M[c, j] per class; NaN for a class without ground-truth pixels.</summary>
    public static double[] PerClass(ReadOnlySpan<long> counts, int classes)
    {
        if (classes <= 0 || counts.Length != (long)classes * classes)
            throw new ArgumentException($"ClassPreferenceScore: {counts.Length} counts do not form a {classes}×{classes} confusion matrix", nameof(counts));
        double[] scores = new double[classes];
        for (int c = 0; c < classes; c++)
        {
            ReadOnlySpan<long> row = counts.Slice(c * classes, classes);
            long total = 0, strongestOther = 0;
            for (int j = 0; j < classes; j++)
            {
                total += row[j];
                if (j != c)
                    strongestOther = Math.Max(strongestOther, row[j]);
            }
            // One division per term keeps the value independent of how rows were split across shards.
            scores[c] = total == 0 ? double.NaN : (double)row[c] / total - (double)strongestOther / total;
        }
        return scores;
    }
}
