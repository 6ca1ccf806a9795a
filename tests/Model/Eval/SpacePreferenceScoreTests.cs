using ReClip.Model.Data;
using ReClip.Model.Eval;
using ReClip.Runtime.Tensors;

namespace ReClip.Tests.Model.Eval;

[TestFixture]
public sealed class SpacePreferenceScoreTests
{
    private const int Side = 20, Ignore = LabelMap.Ignore;

    /// <summary>Slopes of mIoU fractions over bin-centre distances of k/5: a few ulps.</summary>
    private const double Tolerance = 1e-12;

    [Test]
    public void CentreRightAndCornersWrongGivesANegativeSlope()
    {
        (int[] truth, int[] prediction) = Scene(cornersRight: false);
        var score = new SpacePreferenceScore(2);
        score.Accumulate(prediction, truth, Side, Side);
        Assert.Multiple(() =>
        {
            // Centre square: centroid at the image centre, d = 0 → bin 0, all right. Corner squares: centroid
            // (1, 1) from (10, 10) = 9√2 of a 10√2 half-diagonal, d = 0.9 → bin 4, all wrong.
            Assert.That(score.BinMeanIoU(0), Is.EqualTo(1));
            Assert.That(score.BinMeanIoU(4), Is.Zero);
            Assert.That(Enumerable.Range(1, 3).Select(score.BinMeanIoU), Is.All.NaN);
            Assert.That(score.BinPixelAccuracy(4), Is.Zero);
            Assert.That(score.Score(), Is.EqualTo((0 - 1) / 0.8).Within(Tolerance));
        });
    }

    /// <summary>
    /// An object exactly on a bin boundary belongs to the upper bin, as ⌊d·B⌋ says: one pixel at (22, 0) of a 25×5 map lies
    /// d = √(10² + 2²) / √(12.5² + 2.5²) = 0.8 from the centre (bin 4 of 5), and an L of (3, 0), (4, 0), (4, 1) in a 5×5 map
    /// d = 2/3 (bin 2 of 3). Computed in floating point, both came out a hair short, a bin lower.
    /// </summary>
    [TestCase(25, 5, 5, new[] { 22 }, 4)]
    [TestCase(5, 5, 3, new[] { 3, 4, 9 }, 2)]
    public void AnObjectOnABinBoundaryBelongsToTheUpperBin(int width, int height, int bins, int[] pixels, int bin)
    {
        int[] truth = [.. Enumerable.Repeat(Ignore, width * height)], prediction = new int[width * height];
        foreach (int p in pixels)
            truth[p] = prediction[p] = 1;
        var score = new SpacePreferenceScore(2, bins);
        score.Accumulate(prediction, truth, width, height);
        Assert.That(Enumerable.Range(0, bins).Select(score.BinMeanIoU), Is.EqualTo(Enumerable.Range(0, bins).Select(b => b == bin ? 1.0 : double.NaN)));
    }

    [Test]
    public void UniformQualityGivesZero()
    {
        (int[] truth, int[] prediction) = Scene(cornersRight: true);
        var score = new SpacePreferenceScore(2);
        score.Accumulate(prediction, truth, Side, Side);
        Assert.Multiple(() =>
        {
            Assert.That(score.BinMeanIoU(0), Is.EqualTo(1));
            Assert.That(score.BinMeanIoU(4), Is.EqualTo(1));
            Assert.That(score.Score(), Is.Zero);
        });
    }

    [Test]
    public void MiddleBinGivesTwoSlopes()
    {
        // One more object, class 0, 2×2 at x 14..15, y 9..10: centroid (15, 10) → d = 5/14.14 = 0.354 → bin 1,
        // predicted half right: IoU over its bin = 2/4 (the wrong pixels are predicted as class 1, absent in bin 1).
        (int[] truth, int[] prediction) = Scene(cornersRight: false);
        foreach ((int x, int y, int p) in new[] { (14, 9, 0), (15, 9, 0), (14, 10, 1), (15, 10, 1) })
        {
            truth[y * Side + x] = 0;
            prediction[y * Side + x] = p;
        }
        var score = new SpacePreferenceScore(2);
        score.Accumulate(prediction, truth, Side, Side);
        Assert.Multiple(() =>
        {
            Assert.That(score.BinMeanIoU(1), Is.EqualTo(0.5));
            Assert.That(score.Score(), Is.EqualTo(((0.5 - 1) / 0.2 + (0 - 0.5) / 0.6) / 2).Within(Tolerance));
        });
    }

    [Test]
    public void MergedShardsEqualOneAccumulation()
    {
        (int[] truth, int[] wrong) = Scene(cornersRight: false);
        (_, int[] right) = Scene(cornersRight: true);
        var whole = new SpacePreferenceScore(2);
        whole.Accumulate(wrong, truth, Side, Side);
        whole.Accumulate(right, truth, Side, Side);
        SpacePreferenceScore first = new(2), second = new(2);
        first.Accumulate(wrong, truth, Side, Side);
        second.Accumulate(right, truth, Side, Side);
        first.Merge(second);
        Assert.Multiple(() =>
        {
            Assert.That(first.Counts.ToArray(), Is.EqualTo(whole.Counts.ToArray()));
            Assert.That(first.Score(), Is.EqualTo(whole.Score()));
            Assert.That(() => first.Merge(new SpacePreferenceScore(2, 4)), Throws.ArgumentException);
        });
    }

    [Test]
    public void LabelMapOverloadAndInvalidLabels()
    {
        (int[] truth, int[] prediction) = Scene(cornersRight: false);
        var labels = new LabelMap(Side, Side);
        for (int i = 0; i < truth.Length; i++)
            labels.Labels[i] = (byte)truth[i];
        var fromMap = new SpacePreferenceScore(2);
        using (Tensor p = Tensor.FromSpan<int>(prediction, [Side, Side]))
            fromMap.Accumulate(p, labels);
        var fromSpans = new SpacePreferenceScore(2);
        fromSpans.Accumulate(prediction, truth, Side, Side);
        prediction[Side * Side / 2 + Side / 2] = 7;
        Assert.Multiple(() =>
        {
            Assert.That(fromMap.Counts.ToArray(), Is.EqualTo(fromSpans.Counts.ToArray()));
            Assert.That(() => fromSpans.Accumulate(prediction, truth, Side, Side), Throws.ArgumentException.With.Message.Contain("prediction 7"));
        });
    }

    [Test]
    public void FewerThanTwoNonEmptyBinsScoreZero()
    {
        Assert.That(new SpacePreferenceScore(3).Score(), Is.Zero);
    }

    /// <summary>
    /// 20×20, everything ignored except a class-0 4×4 square at the centre (x, y 8..11), always predicted right,
    /// and class-1 2×2 squares in the four corners, predicted as class 0 unless <paramref name="cornersRight"/>.
    /// </summary>
    private static (int[] Truth, int[] Prediction) Scene(bool cornersRight)
    {
        int[] truth = new int[Side * Side], prediction = new int[Side * Side];
        Array.Fill(truth, Ignore);
        for (int y = 8; y < 12; y++)
            for (int x = 8; x < 12; x++)
                truth[y * Side + x] = 0;
        foreach (int cy in new[] { 0, Side - 2 })
            foreach (int cx in new[] { 0, Side - 2 })
                for (int y = cy; y < cy + 2; y++)
                    for (int x = cx; x < cx + 2; x++)
                    {
                        truth[y * Side + x] = 1;
                        prediction[y * Side + x] = cornersRight ? 1 : 0;
                    }
        return (truth, prediction);
    }
}
