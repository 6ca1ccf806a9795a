using ReClip.Model.Eval;

namespace ReClip.Tests.Model.Eval;

[TestFixture]
public sealed class ClassPreferenceScoreTests
{
    /// <summary>Two divisions and a subtraction of small-integer ratios: a few ulps.</summary>
    private const double Tolerance = 1e-15;

    [Test]
    public void CraftedConfusionMatrix()
    {
        // Rows = GT. Class 0: 6/10 right, most confused with 1 (3/10) → 0.3. Class 1: 2/10 right, 8/10 taken by
        // class 2 → −0.6. Class 2 never occurs in the GT and is left out of the mean.
        long[] counts = [6, 3, 1, 0, 2, 8, 0, 0, 0];
        double[] perClass = ClassPreferenceScore.PerClass(counts, 3);
        Assert.Multiple(() =>
        {
            Assert.That(perClass[0], Is.EqualTo(0.3).Within(Tolerance));
            Assert.That(perClass[1], Is.EqualTo(-0.6).Within(Tolerance));
            Assert.That(perClass[2], Is.NaN);
            Assert.That(ClassPreferenceScore.Compute(counts, 3), Is.EqualTo(-0.15).Within(Tolerance));
        });
    }

    [Test]
    public void PerfectPredictionScoresOne()
    {
        Assert.That(ClassPreferenceScore.Compute([5, 0, 0, 7], 2), Is.EqualTo(1));
    }

    [Test]
    public void EmptyMatrixIsNaNAndWrongSizeIsAnError()
    {
        Assert.Multiple(() =>
        {
            Assert.That(ClassPreferenceScore.Compute(new long[4], 2), Is.NaN);
            Assert.That(() => ClassPreferenceScore.Compute(new long[5], 2), Throws.ArgumentException.With.Message.Contain("2×2"));
        });
    }

    [Test]
    public void ComputesFromSegmentationMetrics()
    {
        var metrics = new SegmentationMetrics(2);
        using (var p = ReClip.Runtime.Tensors.Tensor.FromSpan<int>([0, 0, 1, 0], [4]))
        using (var t = ReClip.Runtime.Tensors.Tensor.FromSpan<int>([0, 1, 1, 1], [4]))
            metrics.Accumulate(p, t);
        // Class 0: 1 − 0 = 1; class 1: 1/3 − 2/3.
        Assert.That(ClassPreferenceScore.Compute(metrics), Is.EqualTo((1 + (1.0 / 3 - 2.0 / 3)) / 2).Within(Tolerance));
    }
}
