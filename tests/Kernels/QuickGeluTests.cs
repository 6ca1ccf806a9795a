using ReClip.Kernels.Checks;
using ReClip.Kernels.Ops;
using ReClip.Runtime.Tensors;
using ReClip.Tests.Support;

namespace ReClip.Tests.Kernels;

[TestFixture]
public sealed class QuickGeluTests
{
    // float32 on both sides; |y| ≤ 6 in the random cases (a few ulps ≈ 2e-6), and the tails case is exact (x or −0).
    private const double ForwardTolerance = 1e-5;

    // The gradient's 1 − s cancels near s = 1 and is multiplied by 1.702·|x| ≤ 10: ~1e-6.
    private const double BackwardTolerance = 1e-5;

    // Central differences at step 1e-2: truncation h²/6·|f‴| ≲ 1e-4 (|f‴| ≤ ~5 for QuickGELU), rounding ~1e-5.
    private const double FiniteDifferenceTolerance = 1e-3;

    private static IEnumerable<string> Cases() => OpFixture.CasesOf("quickgelu");

    [TestCaseSource(nameof(Cases))]
    public void MatchesPyTorch(string testCase)
    {
        using var fixture = new OpFixture("quickgelu");
        using Tensor x = fixture.Load(testCase, "x"), dy = fixture.Load(testCase, "dy");
        using Tensor y = Tensor.Empty(x.Shape), inPlace = x.Clone(), dx = Tensor.Empty(x.Shape);
        QuickGelu.Forward(x, y);
        QuickGelu.ForwardInPlace(inPlace);
        QuickGelu.Backward(dy, x, dx);
        Assert.Multiple(() =>
        {
            Assert.That(y.ToFloatArray(), Is.EqualTo(fixture.Values(testCase, "y")).Within(ForwardTolerance));
            Assert.That(inPlace.ToFloatArray(), Is.EqualTo(y.ToFloatArray()), "in place");
            Assert.That(dx.ToFloatArray(), Is.EqualTo(fixture.Values(testCase, "dx")).Within(BackwardTolerance));
        });
    }

    [Test]
    public void BackwardMatchesFiniteDifferences()
    {
        var random = new RandomTensors(7);
        float[] x = random.Uniform(30, -4, 4), dy = random.Uniform(30), y = new float[30], dx = new float[30];
        double Loss(float[] input)
        {
            QuickGelu.Reference(input, y);
            return FiniteDifference.Dot(y, dy);
        }
        QuickGelu.BackwardReference(dy, x, dx);
        Assert.Multiple(() =>
        {
            foreach (int i in FiniteDifference.Sample(x.Length, 12))
                Assert.That(dx[i], Is.EqualTo(FiniteDifference.Derivative(x, i, Loss, 1e-2f)).Within(FiniteDifferenceTolerance), $"dx[{i}]");
        });
    }

    [Test]
    public void BackwardMayOverwriteItsGradient()
    {
        float[] x = new RandomTensors(3).Uniform(40, -5, 5), dy = new RandomTensors(4).Uniform(40), want = new float[40];
        QuickGelu.BackwardReference(dy, x, want);
        using Tensor tx = Tensor.FromSpan<float>(x, [40]), grad = Tensor.FromSpan<float>(dy, [40]);
        QuickGelu.Backward(grad, tx, grad);
        Assert.That(grad.ToFloatArray(), Is.EqualTo(want).Within(BackwardTolerance));
    }

    [Test]
    public void ShapeMismatchNamesTheOpAndBothShapes()
    {
        using Tensor x = Tensor.Zeros([2, 3]), y = Tensor.Zeros([3, 2]);
        var error = Assert.Throws<TensorShapeException>(() => QuickGelu.Forward(x, y));
        Assert.That(error!.Message, Does.Contain("QuickGelu").And.Contain("[2,3]").And.Contain("[3,2]"));
    }

    /// <summary>
    /// The elementwise CUDA kernels take float4 loads only from 16-byte aligned tensors; a view one float past the boundary
    /// (unaligned, with a scalar tail) must give the aligned result. The catalog's tensors all start aligned.
    /// </summary>
    [Test]
    public void CudaUnalignedViewsMatchTheAlignedResult()
    {
        Requires.CudaDevice();
        const int count = 1027;
        var random = new RandomTensors(5);
        float[] values = random.Uniform(count + 1, -6, 6);
        using Tensor hostAll = Tensor.FromSpan<float>(values, [count + 1]);
        using Tensor hostX = hostAll.Slice(0, 1, count), want = Tensor.Empty([count]);
        QuickGelu.Forward(hostX, want);
        using Tensor all = hostAll.ToDevice(Device.Cuda(0)), unaligned = all.Slice(0, 1, count), y = Tensor.Empty([count], DType.F32, Device.Cuda(0));
        QuickGelu.Forward(unaligned, y);
        QuickGelu.ForwardInPlace(unaligned);
        Assert.Multiple(() =>
        {
            Assert.That(y.ToFloatArray(), Is.EqualTo(want.ToFloatArray()).Within(ForwardTolerance), "into an aligned output");
            Assert.That(unaligned.ToFloatArray(), Is.EqualTo(y.ToFloatArray()), "in place, unaligned");
        });
    }
}
