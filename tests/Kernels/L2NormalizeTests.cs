using ReClip.Kernels.Checks;
using ReClip.Kernels.Ops;
using ReClip.Runtime.Tensors;
using ReClip.Tests.Support;

namespace ReClip.Tests.Kernels;

[TestFixture]
public sealed class L2NormalizeTests
{
    // float32 sums of ≤ 512 squares on both sides in different orders: a few ulps (~6e-8 each) of |y| ≤ 1.
    private const double ForwardTolerance = 2e-6;

    // The same sums before the square root, on norms ≈ 13 (512 values in [−1, 1]) where one ulp is 9.5e-7.
    private const double NormTolerance = 1e-5;

    // dy − y·(y·dy), divided by ‖x‖ ≥ 0.5 here: a few ulps of O(1) terms.
    private const double BackwardTolerance = 1e-5;

    // Central differences at step 1e-3 (‖x‖ ≈ 1.8 for 10 values, so the curvature is O(1/‖x‖²)): ~1e-5 truncation, ~1e-4 rounding.
    private const double FiniteDifferenceTolerance = 1e-3;

    private static IEnumerable<string> Cases() => OpFixture.CasesOf("l2normalize");

    [TestCaseSource(nameof(Cases))]
    public void MatchesPyTorch(string testCase)
    {
        using var fixture = new OpFixture("l2normalize");
        using Tensor x = fixture.Load(testCase, "x"), dy = fixture.Load(testCase, "dy");
        using Tensor y = Tensor.Empty(x.Shape), norm = Tensor.Empty([x.Size(0)]), dx = Tensor.Empty(x.Shape);
        L2Normalize.Forward(x, y, norm);
        L2Normalize.Backward(dy, y, norm, dx);
        // NUnit counts NaN as equal to NaN, so the zero-row case checks that NaN appears exactly where PyTorch has it.
        Assert.Multiple(() =>
        {
            Assert.That(y.ToFloatArray(), Is.EqualTo(fixture.Values(testCase, "y")).Within(ForwardTolerance));
            Assert.That(norm.ToFloatArray(), Is.EqualTo(fixture.Values(testCase, "norm")).Within(NormTolerance));
            Assert.That(dx.ToFloatArray(), Is.EqualTo(fixture.Values(testCase, "dx")).Within(BackwardTolerance));
        });
    }

    /// <summary>Spec §4.4 divides by the norm without epsilon: a zero feature row is 0/0 = NaN, and only that row.</summary>
    [Test]
    public void ZeroRowIsNaNAsInPyTorch()
    {
        using var fixture = new OpFixture("l2normalize");
        const string testCase = "case3";
        float[] want = fixture.Values(testCase, "y");
        int width = fixture.Shape(testCase, "y")[1];
        Assert.That(want.AsSpan(width, width).ToArray(), Has.All.NaN, "the fixture's second row is the zero row");
        using Tensor x = fixture.Load(testCase, "x"), y = Tensor.Empty(x.Shape);
        L2Normalize.Forward(x, y);
        float[] got = y.ToFloatArray();
        Assert.Multiple(() =>
        {
            Assert.That(got.AsSpan(width, width).ToArray(), Has.All.NaN);
            Assert.That(got.AsSpan(0, width).ToArray(), Has.None.NaN);
        });
    }

    [Test]
    public void BackwardMatchesFiniteDifferences()
    {
        const int rows = 3, width = 10;
        var random = new RandomTensors(7);
        float[] x = random.Uniform(rows * width), dy = random.Uniform(rows * width);
        float[] y = new float[rows * width], norm = new float[rows], dx = new float[rows * width];
        double Loss(float[] input)
        {
            L2Normalize.Reference(input, y, norm);
            return FiniteDifference.Dot(y, dy);
        }
        L2Normalize.Reference(x, y, norm);
        L2Normalize.BackwardReference(dy, y, norm, dx);
        Assert.Multiple(() =>
        {
            foreach (int i in FiniteDifference.Sample(x.Length, 12))
                Assert.That(dx[i], Is.EqualTo(FiniteDifference.Derivative(x, i, Loss, 1e-3f)).Within(FiniteDifferenceTolerance), $"dx[{i}]");
        });
    }

    [Test]
    public void ShapeMismatchesNameTheOpAndBothShapes()
    {
        using Tensor x = Tensor.Zeros([2, 3]), y = Tensor.Zeros([2, 3]), badNorm = Tensor.Zeros([3]), badY = Tensor.Zeros([3, 2]);
        Assert.Multiple(() =>
        {
            Assert.That(() => L2Normalize.Forward(x, badY), Throws.TypeOf<TensorShapeException>().With.Message.Contain("L2Normalize").And.Message.Contain("[3,2]"));
            Assert.That(() => L2Normalize.Forward(x, y, badNorm), Throws.TypeOf<TensorShapeException>().With.Message.Contain("L2Normalize norm").And.Message.Contain("[2]").And.Message.Contain("[3]"));
        });
    }
}
