using ReClip.Model.Data;
using ReClip.Model.Eval;
using ReClip.Runtime.Tensors;

namespace ReClip.Tests.Model.Eval;

[TestFixture]
public sealed class SegmentationMetricsTests
{
    private const int Ignore = LabelMap.Ignore;

    /// <summary>A ratio of small integers computed once in double; the metrics divide the same integers.</summary>
    private const double Exact = 0;

    [Test]
    public void HandComputedCaseWithAnAbsentClassAndAnIgnoredPixel()
    {
        // GT 0 0 1 1 255 / pred 0 1 1 0 2: I0 = 1, U0 = 2 + 2 − 1 = 3; I1 = 1, U1 = 3; class 2 is predicted only
        // on the ignored pixel, so it is absent from both and its IoU is 0.
        var metrics = new SegmentationMetrics(3);
        Accumulate(metrics, [0, 1, 1, 0, 2], [0, 0, 1, 1, Ignore]);
        Assert.Multiple(() =>
        {
            Assert.That(metrics.Counts.ToArray(), Is.EqualTo(new long[] { 1, 1, 0, 1, 1, 0, 0, 0, 0 }));
            Assert.That(metrics.PerClassIoU(), Is.EqualTo(new[] { 1.0 / 3, 1.0 / 3, 0 }));
            Assert.That(metrics.MeanIoU(), Is.EqualTo((1.0 / 3 + 1.0 / 3) / 3).Within(Exact));
            Assert.That(metrics.MeanIoU(MeanIoUAverage.NonEmptyUnions), Is.EqualTo((1.0 / 3 + 1.0 / 3) / 2).Within(Exact));
            Assert.That(metrics.PixelAccuracy(), Is.EqualTo(0.5));
            Assert.That(metrics.Pixels, Is.EqualTo(4));
        });
    }

    [Test]
    public void AClassPredictedButAbsentFromTheGroundTruthScoresZeroUnderBothAverages()
    {
        var metrics = new SegmentationMetrics(2);
        Accumulate(metrics, [0, 1], [0, 0]);
        Assert.Multiple(() =>
        {
            Assert.That(metrics.PerClassIoU(), Is.EqualTo(new[] { 0.5, 0 }));
            Assert.That(metrics.MeanIoU(), Is.EqualTo(0.25));
            Assert.That(metrics.MeanIoU(MeanIoUAverage.NonEmptyUnions), Is.EqualTo(0.25));
        });
    }

    [Test]
    public void EmptyAccumulator()
    {
        var metrics = new SegmentationMetrics(4);
        Accumulate(metrics, [3, 1], [Ignore, Ignore]);
        Assert.Multiple(() =>
        {
            Assert.That(metrics.MeanIoU(), Is.Zero);
            Assert.That(metrics.MeanIoU(MeanIoUAverage.NonEmptyUnions), Is.NaN);
            Assert.That(metrics.PixelAccuracy(), Is.NaN);
        });
    }

    [Test]
    public void LabelMapOverloadMatchesTensors()
    {
        var labels = new LabelMap(3, 2);
        byte[] truth = [0, 1, 2, Ignore, 1, 1];
        truth.CopyTo(labels.Labels, 0);
        int[] prediction = [0, 2, 2, 1, 1, 0];
        var fromMap = new SegmentationMetrics(3);
        using (Tensor p = Tensor.FromSpan<int>(prediction, [2, 3]))
            fromMap.Accumulate(p, labels);
        var fromTensors = new SegmentationMetrics(3);
        Accumulate(fromTensors, prediction, Array.ConvertAll(truth, v => (int)v));
        Assert.That(fromMap.Counts.ToArray(), Is.EqualTo(fromTensors.Counts.ToArray()));
    }

    [TestCase(2)]
    [TestCase(3)]
    [TestCase(7)]
    public void MergedShardsEqualOneAccumulationBitForBit(int shards)
    {
        const int classes = 5, images = 12, pixels = 997;
        var random = new Random(1234);
        var whole = new SegmentationMetrics(classes);
        var parts = Enumerable.Range(0, shards).Select(_ => new SegmentationMetrics(classes)).ToArray();
        for (int image = 0; image < images; image++)
        {
            int[] truth = new int[pixels], prediction = new int[pixels];
            for (int i = 0; i < pixels; i++)
            {
                truth[i] = random.Next(10) == 0 ? Ignore : random.Next(classes - 1); // class 4 never in the GT
                prediction[i] = random.Next(classes);
            }
            Accumulate(whole, prediction, truth);
            Accumulate(parts[image % shards], prediction, truth);
        }
        var merged = new SegmentationMetrics(classes);
        foreach (SegmentationMetrics part in parts)
            merged.Merge(part);
        Assert.Multiple(() =>
        {
            Assert.That(merged.Counts.ToArray(), Is.EqualTo(whole.Counts.ToArray()));
            Assert.That(BitConverter.DoubleToInt64Bits(merged.MeanIoU()), Is.EqualTo(BitConverter.DoubleToInt64Bits(whole.MeanIoU())));
            Assert.That(merged.PerClassIoU(), Is.EqualTo(whole.PerClassIoU()));
            Assert.That(merged.PixelAccuracy(), Is.EqualTo(whole.PixelAccuracy()));
        });
    }

    [Test]
    public void MergingDifferentClassCountsIsAnError()
    {
        Assert.That(() => new SegmentationMetrics(3).Merge(new SegmentationMetrics(4)), Throws.ArgumentException.With.Message.Contain("4 classes"));
    }

    private static void Accumulate(SegmentationMetrics metrics, int[] prediction, int[] truth)
    {
        using Tensor p = Tensor.FromSpan<int>(prediction, [prediction.Length]), t = Tensor.FromSpan<int>(truth, [truth.Length]);
        metrics.Accumulate(p, t);
    }
}
