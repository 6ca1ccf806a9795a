using System.Globalization;
using ReClip.Kernels.Checks;
using ReClip.Kernels.Ops;
using ReClip.Runtime.Tensors;
using ReClip.Tests.Support;

namespace ReClip.Tests.Kernels;

[TestFixture]
public sealed class SoftmaxTests
{
    // y ∈ [0, 1]: both sides round fl(scale·x) − max identically; exp and the float32 sum differ by a few ulps.
    private const double ForwardTolerance = 2e-6;

    // dx = scale·y·(dy − Σdy·y) with scale ≤ 10 and O(1) terms.
    private const double BackwardTolerance = 2e-5;

    // Central differences at step 1e-2 with scale 2.5: truncation h²/6·scale³·O(1) ≈ 3e-4.
    private const double FiniteDifferenceTolerance = 2e-3;

    private static IEnumerable<string> Cases() => OpFixture.CasesOf("softmax");

    private static float ScaleOf(OpFixture fixture, string testCase) =>
        float.Parse(fixture.Describe(testCase).Split("scale=")[1], CultureInfo.InvariantCulture);

    [TestCaseSource(nameof(Cases))]
    public void MatchesPyTorch(string testCase)
    {
        using var fixture = new OpFixture("softmax");
        float scale = ScaleOf(fixture, testCase);
        using Tensor x = fixture.Load(testCase, "x"), dy = fixture.Load(testCase, "dy");
        using Tensor y = Tensor.Empty(x.Shape), dx = Tensor.Empty(x.Shape);
        Softmax.Forward(x, y, scale);
        Softmax.Backward(dy, y, dx, scale);
        Assert.Multiple(() =>
        {
            Assert.That(y.ToFloatArray(), Is.EqualTo(fixture.Values(testCase, "y")).Within(ForwardTolerance));
            Assert.That(dx.ToFloatArray(), Is.EqualTo(fixture.Values(testCase, "dx")).Within(BackwardTolerance));
        });
    }

    /// <summary>The prompt-denoising filter keeps a class only where softmax(10·O) rounds to exactly 1.0 (spec §10.3).</summary>
    [Test]
    public void RowsThatReachExactlyOneAreThoseOfPyTorch()
    {
        using var fixture = new OpFixture("softmax");
        const string testCase = "case2";
        Assert.That(ScaleOf(fixture, testCase), Is.EqualTo(10));
        using Tensor x = fixture.Load(testCase, "x"), y = Tensor.Empty(x.Shape);
        Softmax.Forward(x, y, 10);
        int width = x.Size(1);
        int[] RowsAtOne(float[] values) => Enumerable.Range(0, values.Length / width)
            .Where(r => values.AsSpan(r * width, width).IndexOf(1.0f) >= 0).ToArray();
        int[] want = RowsAtOne(fixture.Values(testCase, "y"));
        Assert.That(want, Is.Not.Empty, "the fixture should hold rows that round to 1.0");
        Assert.That(RowsAtOne(y.ToFloatArray()), Is.EqualTo(want));
    }

    [Test]
    public void BackwardMatchesFiniteDifferences()
    {
        const int width = 10;
        const float scale = 2.5f;
        var random = new RandomTensors(7);
        float[] x = random.Uniform(3 * width, -2, 2), dy = random.Uniform(3 * width), y = new float[3 * width], dx = new float[3 * width];
        double Loss(float[] input)
        {
            Softmax.Reference(input, y, width, scale);
            return FiniteDifference.Dot(y, dy);
        }
        Softmax.Reference(x, y, width, scale);
        Softmax.BackwardReference(dy, y, dx, width, scale);
        Assert.Multiple(() =>
        {
            foreach (int i in FiniteDifference.Sample(x.Length, 12))
                Assert.That(dx[i], Is.EqualTo(FiniteDifference.Derivative(x, i, Loss, 1e-2f)).Within(FiniteDifferenceTolerance), $"dx[{i}]");
        });
    }

    [Test]
    public void InPlaceEqualsOutOfPlace()
    {
        float[] values = new RandomTensors(5).Uniform(5 * 37, -3, 3);
        using Tensor x = Tensor.FromSpan<float>(values, [5, 37]), y = Tensor.Empty([5, 37]);
        Softmax.Forward(x, y, 0.125f);
        Softmax.Forward(x, x, 0.125f);
        Assert.That(x.ToFloatArray(), Is.EqualTo(y.ToFloatArray()));
    }

    /// <summary>Masked (−∞) scores get probability 0; a row that is all −∞ is NaN, as in PyTorch (−∞ − −∞).</summary>
    [Test]
    public void MinusInfinityIsZeroAndAnAllMaskedRowIsNaN()
    {
        float ninf = float.NegativeInfinity;
        using Tensor x = Tensor.FromSpan<float>([ninf, 0, 1, ninf, ninf, ninf], [2, 3]), y = Tensor.Empty([2, 3]);
        Softmax.Forward(x, y);
        float[] got = y.ToFloatArray();
        Assert.Multiple(() =>
        {
            Assert.That(got[..3], Is.EqualTo(new[] { 0, 1 / (1 + MathF.E), MathF.E / (1 + MathF.E) }).Within(ForwardTolerance));
            Assert.That(got[3..], Has.All.NaN);
        });
    }

    [Test]
    public void ShapeMismatchNamesTheOpAndBothShapes()
    {
        using Tensor x = Tensor.Zeros([2, 3]), y = Tensor.Zeros([2, 4]);
        var error = Assert.Throws<TensorShapeException>(() => Softmax.Forward(x, y));
        Assert.That(error!.Message, Does.Contain("Softmax").And.Contain("[2,3]").And.Contain("[2,4]"));
    }

    /// <summary>
    /// Rows whose width is a multiple of 4 take the float4 path on cuda:0 (every catalog width is odd), in place and not,
    /// and a view that starts one float past a 16-byte boundary falls back to scalar loads.
    /// </summary>
    [TestCase(9, 64, 0.125f)]
    [TestCase(441, 20, 10f)]
    public void CudaFloat4RowsMatchTheCpu(int rows, int width, float scale)
    {
        Requires.CudaDevice();
        var random = new RandomTensors(11);
        float[] values = random.Uniform(rows * width + 1, -4, 4), dyValues = random.Uniform(rows * width);
        using Tensor hostAll = Tensor.FromSpan<float>(values, [values.Length]);
        using Tensor hostFlat = hostAll.Slice(0, 1, rows * width), hostX = hostFlat.Reshape(rows, width), want = Tensor.Empty([rows, width]);
        Softmax.Forward(hostX, want, scale);
        using Tensor hostDy = Tensor.FromSpan<float>(dyValues, [rows, width]), wantDx = Tensor.Empty([rows, width]);
        Softmax.Backward(hostDy, want, wantDx, scale);

        using Tensor x = hostX.ToDevice(Device.Cuda(0)), y = Tensor.Empty([rows, width], DType.F32, Device.Cuda(0)), inPlace = x.Clone();
        Softmax.Forward(x, y, scale);
        Softmax.Forward(inPlace, inPlace, scale);
        using Tensor all = hostAll.ToDevice(Device.Cuda(0)), flat = all.Slice(0, 1, rows * width), unaligned = flat.Reshape(rows, width);
        using Tensor unalignedY = Tensor.Empty([rows, width], DType.F32, Device.Cuda(0));
        Softmax.Forward(unaligned, unalignedY, scale);
        using Tensor dy = hostDy.ToDevice(Device.Cuda(0)), yRef = want.ToDevice(Device.Cuda(0)), dx = Tensor.Empty([rows, width], DType.F32, Device.Cuda(0));
        Softmax.Backward(dy, yRef, dx, scale);
        Assert.Multiple(() =>
        {
            Assert.That(y.ToFloatArray(), Is.EqualTo(want.ToFloatArray()).Within(ForwardTolerance), "float4");
            Assert.That(inPlace.ToFloatArray(), Is.EqualTo(y.ToFloatArray()), "in place");
            Assert.That(unalignedY.ToFloatArray(), Is.EqualTo(want.ToFloatArray()).Within(ForwardTolerance), "unaligned");
            Assert.That(dx.ToFloatArray(), Is.EqualTo(wantDx.ToFloatArray()).Within(BackwardTolerance * Math.Max(1, scale)), "backward");
        });
    }
}
