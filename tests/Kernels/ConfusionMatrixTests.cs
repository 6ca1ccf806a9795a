using ReClip.Kernels.Ops;
using ReClip.Runtime.Tensors;
using ReClip.Tests.Support;

namespace ReClip.Tests.Kernels;

[TestFixture]
public sealed class ConfusionMatrixTests
{
    private const int Ignore = ConfusionMatrix.IgnoreLabel;

    private static IEnumerable<string> Cases() => OpFixture.CasesOf("confusionmatrix");

    [TestCaseSource(nameof(Cases))]
    public void MatchesPyTorch(string testCase)
    {
        using var fixture = new OpFixture("confusionmatrix");
        using Tensor prediction = fixture.Load(testCase, "prediction"), truth = fixture.Load(testCase, "truth");
        int classes = fixture.Shape(testCase, "counts")[0];
        long[] counts = new long[classes * classes];
        ConfusionMatrix.Accumulate(prediction, truth, counts, classes);
        Assert.That(counts, Is.EqualTo(Array.ConvertAll(fixture.Values(testCase, "counts"), v => (long)v)));
    }

    [Test]
    public void AccumulatesAcrossCalls()
    {
        long[] counts = new long[4];
        using Tensor prediction = Map(0, 1, 1, 0), truth = Map(0, 1, Ignore, 1);
        ConfusionMatrix.Accumulate(prediction, truth, counts, 2);
        ConfusionMatrix.Accumulate(prediction, truth, counts, 2);
        Assert.That(counts, Is.EqualTo(new long[] { 2, 0, 2, 2 }));
    }

    [Test]
    public void IgnoredPixelsMayHoldTheIgnoreLabelAsPrediction()
    {
        long[] counts = new long[4];
        using Tensor prediction = Map(Ignore, 1), truth = Map(Ignore, 1);
        ConfusionMatrix.Accumulate(prediction, truth, counts, 2);
        Assert.That(counts, Is.EqualTo(new long[] { 0, 0, 0, 1 }));
    }

    [TestCase(new[] { 0, 1, 0 }, new[] { 0, 2, 1 }, "ground truth 2 at pixel 1")]
    [TestCase(new[] { 0, -1, 0 }, new[] { 0, 1, 1 }, "prediction -1 at pixel 1")]
    [TestCase(new[] { 0, 1, 7 }, new[] { 0, 1, Ignore }, "prediction 7 at pixel 2")]
    [TestCase(new[] { 0, Ignore, 0 }, new[] { 0, 1, 1 }, "prediction 255 at pixel 1 is the ignore label")]
    [TestCase(new[] { 0, 0, 0 }, new[] { 0, -3, 1 }, "ground truth -3 at pixel 1")]
    public void InvalidLabelsNameTheValueAndPixel(int[] prediction, int[] truth, string message)
    {
        long[] counts = new long[4], before = (long[])counts.Clone();
        using Tensor tp = Map(prediction), tg = Map(truth);
        Assert.Multiple(() =>
        {
            Assert.That(() => ConfusionMatrix.Accumulate(tp, tg, counts, 2), Throws.ArgumentException.With.Message.Contain(message));
            Assert.That(() => ConfusionMatrix.Reference(prediction, truth, new long[4], 2), Throws.ArgumentException.With.Message.Contain(message));
            Assert.That(counts, Is.EqualTo(before), "counts are left unchanged on error");
        });
    }

    /// <summary>On an input large enough to split over threads, the first bad pixel in pixel order is reported.</summary>
    [Test]
    public void ReportsTheFirstInvalidPixelOfALargeMap()
    {
        const int pixels = 300_000;
        int[] prediction = new int[pixels], truth = new int[pixels];
        truth[299_999] = 9;
        truth[150_001] = 8;
        using Tensor tp = Map(prediction), tg = Map(truth);
        Assert.That(() => ConfusionMatrix.Accumulate(tp, tg, new long[4], 2), Throws.ArgumentException.With.Message.Contain("ground truth 8 at pixel 150001"));
    }

    [Test]
    public void WrongCountsOrShapesAreErrors()
    {
        using Tensor two = Map(0, 1), three = Map(0, 1, 1);
        Assert.Multiple(() =>
        {
            Assert.That(() => ConfusionMatrix.Accumulate(two, two, new long[3], 2), Throws.ArgumentException.With.Message.Contain("C×C"));
            Assert.That(() => ConfusionMatrix.Accumulate(three, two, new long[4], 2), Throws.TypeOf<TensorShapeException>().With.Message.Contain("[3]").And.Message.Contain("[2]"));
        });
    }

    private static Tensor Map(params int[] labels) => Tensor.FromSpan<int>(labels, [labels.Length]);

    /// <summary>
    /// On cuda:0 the invalid pixel is found by an atomic minimum over many blocks (300 000 pixels): the first one in pixel
    /// order must be reported with the CPU message, and the host counts must stay unchanged; the catalog checks only valid maps.
    /// </summary>
    [Test]
    public void CudaReportsTheFirstInvalidPixelAndKeepsTheCounts()
    {
        Requires.CudaDevice();
        const int pixels = 300_000;
        int[] prediction = new int[pixels], truth = new int[pixels];
        truth[299_999] = 9;
        prediction[200_000] = -4;
        truth[150_001] = 8;
        long[] counts = [5, 6, 7, 8];
        using Tensor hostPrediction = Map(prediction), hostTruth = Map(truth);
        using Tensor tp = hostPrediction.ToDevice(Device.Cuda(0)), tg = hostTruth.ToDevice(Device.Cuda(0));
        Assert.Multiple(() =>
        {
            Assert.That(() => ConfusionMatrix.Accumulate(tp, tg, counts, 2), Throws.ArgumentException.With.Message.Contain("ground truth 8 at pixel 150001"));
            Assert.That(counts, Is.EqualTo(new long[] { 5, 6, 7, 8 }), "counts are left unchanged on error");
        });
        using Tensor small = Map(0, Ignore, 0), smallTruth = Map(0, 1, 1);
        using Tensor sp = small.ToDevice(Device.Cuda(0)), sg = smallTruth.ToDevice(Device.Cuda(0));
        Assert.That(() => ConfusionMatrix.Accumulate(sp, sg, counts, 2), Throws.ArgumentException.With.Message.Contain("prediction 255 at pixel 1 is the ignore label"));
    }
}
