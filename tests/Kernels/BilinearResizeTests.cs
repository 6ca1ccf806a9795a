using ReClip.Kernels.Ops;
using ReClip.Runtime.Tensors;
using ReClip.Tests.Support;

namespace ReClip.Tests.Kernels;

[TestFixture]
public sealed class BilinearResizeTests
{
    // float32 on both sides, 4 taps with weights in [0, 1] on O(1) values: a few ulps.
    private const double Tolerance = 1e-6;

    private static IEnumerable<string> Cases() => OpFixture.CasesOf("bilinearresize");

    [TestCaseSource(nameof(Cases))]
    public void MatchesPyTorch(string testCase)
    {
        using var fixture = new OpFixture("bilinearresize");
        using Tensor x = fixture.Load(testCase, "x");
        using Tensor y = Tensor.Empty(fixture.Shape(testCase, "y"));
        BilinearResize.Forward(x, y);
        Assert.That(y.ToFloatArray(), Is.EqualTo(fixture.Values(testCase, "y")).Within(Tolerance));
    }

    [Test]
    public void EqualSizesAreTheIdentity()
    {
        float[] values = new ReClip.Kernels.Checks.RandomTensors(5).Uniform(20 * 21 * 28);
        float[] reference = new float[values.Length];
        BilinearResize.Reference(values, 21, 28, reference, 21, 28);
        using Tensor x = Tensor.FromSpan<float>(values, [20, 21, 28]), y = Tensor.Empty([20, 21, 28]);
        BilinearResize.Forward(x, y);
        Assert.Multiple(() =>
        {
            Assert.That(reference, Is.EqualTo(values), "reference");
            Assert.That(y.ToFloatArray(), Is.EqualTo(values), "fast path");
        });
    }

    [TestCase(21, 28, 336, 448)]
    [TestCase(336, 448, 375, 500)]
    [TestCase(9, 7, 2, 3)]
    public void ConstantStaysConstant(int h, int w, int outH, int outW)
    {
        // The weights of each output sum to 1, also where both taps fall on the border index.
        float[] values = Enumerable.Repeat(0.7f, 2 * h * w).ToArray();
        using Tensor x = Tensor.FromSpan<float>(values, [2, h, w]), y = Tensor.Empty([2, outH, outW]);
        BilinearResize.Forward(x, y);
        Assert.That(y.ToFloatArray(), Is.All.EqualTo(0.7f).Within(1e-7));
    }

    [Test]
    public void RejectsMismatchedShapes()
    {
        using Tensor x = Tensor.Zeros([1, 20, 21, 28]), wrongPlanes = Tensor.Zeros([20, 336, 448]), empty = Tensor.Zeros([1, 20, 0, 448]);
        Assert.Multiple(() =>
        {
            Assert.That(() => BilinearResize.Forward(x, wrongPlanes),
                Throws.TypeOf<TensorShapeException>().With.Message.Contains("BilinearResize").And.Message.Contains("[1,20,21,28]").And.Message.Contains("[20,336,448]"));
            Assert.That(() => BilinearResize.Forward(x, empty), Throws.TypeOf<TensorShapeException>().With.Message.Contains("empty"));
        });
    }
}
