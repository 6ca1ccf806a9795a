using ReClip.Kernels.Ops;
using ReClip.Runtime.Tensors;
using ReClip.Tests.Support;

namespace ReClip.Tests.Kernels;

[TestFixture]
public sealed class BicubicResizeTests
{
    // float32 on both sides, 16 taps with weights ≤ 1.1 on O(1) values, summed in the same x-then-y order.
    private const double Tolerance = 2e-6;

    private static IEnumerable<string> Cases() => OpFixture.CasesOf("bicubicresize");

    [TestCaseSource(nameof(Cases))]
    public void MatchesPyTorch(string testCase)
    {
        using var fixture = new OpFixture("bicubicresize");
        using Tensor x = fixture.Load(testCase, "x");
        int[] shape = fixture.Shape(testCase, "y");
        using Tensor y = Tensor.Empty(shape);
        BicubicResize.Forward(x, y);
        Assert.That(y.ToFloatArray(), Is.EqualTo(fixture.Values(testCase, "y")).Within(Tolerance));
    }

    [TestCaseSource(nameof(Cases))]
    public void ChannelsLastMatchesPyTorch(string testCase)
    {
        using var fixture = new OpFixture("bicubicresize");
        int[] inShape = fixture.Shape(testCase, "x"), outShape = fixture.Shape(testCase, "y");
        using Tensor x = Tensor.FromSpan<float>(ChannelsLast(fixture.Values(testCase, "x"), inShape), [inShape[1], inShape[2], inShape[0]]);
        using Tensor y = Tensor.Empty([outShape[1], outShape[2], outShape[0]]);
        BicubicResize.ForwardChannelsLast(x, y);
        Assert.That(y.ToFloatArray(), Is.EqualTo(ChannelsLast(fixture.Values(testCase, "y"), outShape)).Within(Tolerance));
    }

    [Test]
    public void EqualSizesAreTheIdentity()
    {
        float[] values = new ReClip.Kernels.Checks.RandomTensors(5).Uniform(768 * 14 * 14);
        float[] reference = new float[values.Length];
        BicubicResize.Reference(values, 14, 14, reference, 14, 14);
        using Tensor x = Tensor.FromSpan<float>(values, [768, 14, 14]), y = Tensor.Empty([768, 14, 14]), yLast = Tensor.Empty([14, 14, 768]);
        using Tensor xLast = Tensor.FromSpan<float>(values, [14, 14, 768]);
        BicubicResize.Forward(x, y);
        BicubicResize.ForwardChannelsLast(xLast, yLast);
        Assert.Multiple(() =>
        {
            Assert.That(reference, Is.EqualTo(values), "reference");
            Assert.That(y.ToFloatArray(), Is.EqualTo(values), "channels first");
            Assert.That(yLast.ToFloatArray(), Is.EqualTo(values), "channels last");
        });
    }

    [Test]
    public void LeadingDimensionsAreIndependentPlanes()
    {
        float[] values = new ReClip.Kernels.Checks.RandomTensors(6).Uniform(2 * 3 * 4 * 5);
        using Tensor batched = Tensor.FromSpan<float>(values, [2, 3, 4, 5]), flat = Tensor.FromSpan<float>(values, [6, 4, 5]);
        using Tensor yBatched = Tensor.Empty([2, 3, 7, 3]), yFlat = Tensor.Empty([6, 7, 3]);
        BicubicResize.Forward(batched, yBatched);
        BicubicResize.Forward(flat, yFlat);
        Assert.That(yBatched.ToFloatArray(), Is.EqualTo(yFlat.ToFloatArray()));
    }

    [Test]
    public void RejectsMismatchedShapes()
    {
        using Tensor x = Tensor.Zeros([3, 14, 14]), wrongPlanes = Tensor.Zeros([4, 21, 21]), wrongChannels = Tensor.Zeros([21, 21, 4]);
        Assert.Multiple(() =>
        {
            Assert.That(() => BicubicResize.Forward(x, wrongPlanes),
                Throws.TypeOf<TensorShapeException>().With.Message.Contains("BicubicResize").And.Message.Contains("[3,14,14]").And.Message.Contains("[4,21,21]"));
            Assert.That(() => BicubicResize.ForwardChannelsLast(x, wrongChannels),
                Throws.TypeOf<TensorShapeException>().With.Message.Contains("[3,14,14]").And.Message.Contains("[21,21,4]"));
        });
    }

    /// <summary>[C, h, w] values reordered to [h, w, C].</summary>
    private static float[] ChannelsLast(float[] planes, int[] shape)
    {
        int channels = shape[0], pixels = shape[1] * shape[2];
        float[] result = new float[planes.Length];
        for (int c = 0; c < channels; c++)
            for (int p = 0; p < pixels; p++)
                result[p * channels + c] = planes[c * pixels + p];
        return result;
    }
}
