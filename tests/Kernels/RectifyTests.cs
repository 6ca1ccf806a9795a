using ReClip.Kernels.Ops;
using ReClip.Runtime.Tensors;
using ReClip.Tests.Support;

namespace ReClip.Tests.Kernels;

[TestFixture]
public sealed class RectifyTests
{
    // float32 on both sides; the bias sums E ≤ 32 products of N(0,1) × O(1/√(C·E)) values: a few ulps of O(1).
    private const double ForwardTolerance = 1e-5;

    // dP sums C ≤ 20 products, dR sums B·N ≤ 441 products of O(1) values: ~√441·ε·|terms| ≈ 1e-5.
    private const double BackwardTolerance = 5e-5;

    // The loss Σ dRect·Rect is linear in P and R, so central differences have no truncation error; what is
    // left is float32 rounding of Rect, ~1e-7·√(B·N·C)/step ≈ 1e-4 at step 1e-2 (see FiniteDifference).
    private const double FiniteDifferenceTolerance = 1e-3;

    private static IEnumerable<string> Cases() => OpFixture.CasesOf("rectify");

    [TestCaseSource(nameof(Cases))]
    public void MatchesPyTorch(string testCase)
    {
        using var fixture = new OpFixture("rectify");
        using Tensor q = fixture.Load(testCase, "q"), p = fixture.Load(testCase, "p"), r = fixture.Load(testCase, "r"), dRect = fixture.Load(testCase, "drect");
        using Tensor rect = Tensor.Empty(q.Shape), dp = Tensor.Empty(p.Shape), dr = Tensor.Empty(r.Shape);
        Rectify.Forward(q, p, r, rect);
        Rectify.Backward(dRect, p, r, dp, dr);
        Assert.Multiple(() =>
        {
            Assert.That(rect.ToFloatArray(), Is.EqualTo(fixture.Values(testCase, "rect")).Within(ForwardTolerance));
            Assert.That(dp.ToFloatArray(), Is.EqualTo(fixture.Values(testCase, "dp")).Within(BackwardTolerance));
            Assert.That(dr.ToFloatArray(), Is.EqualTo(fixture.Values(testCase, "dr")).Within(BackwardTolerance));
        });
    }

    [Test]
    public void BackwardMatchesFiniteDifferences()
    {
        const int batch = 2, patches = 5, classes = 3, width = 4;
        var random = new ReClip.Kernels.Checks.RandomTensors(5);
        float[] q = random.Uniform(batch * patches * classes), p = random.Uniform(patches * width), r = random.Uniform(classes * width);
        float[] dRect = random.Uniform(batch * patches * classes), rect = new float[q.Length];
        double Loss(float[] positional, float[] reference)
        {
            Rectify.Reference(q, positional, reference, rect, patches, classes);
            return FiniteDifference.Dot(rect, dRect);
        }
        float[] dp = new float[p.Length], dr = new float[r.Length];
        Rectify.BackwardReference(dRect, p, r, dp, dr, patches, classes);
        Assert.Multiple(() =>
        {
            foreach (int i in FiniteDifference.Sample(p.Length, 10))
                Assert.That(dp[i], Is.EqualTo(FiniteDifference.Derivative(p, i, v => Loss(v, r), 1e-2f)).Within(FiniteDifferenceTolerance), $"dp[{i}]");
            foreach (int i in FiniteDifference.Sample(r.Length, 10))
                Assert.That(dr[i], Is.EqualTo(FiniteDifference.Derivative(r, i, v => Loss(p, v), 1e-2f)).Within(FiniteDifferenceTolerance), $"dr[{i}]");
        });
    }

    [Test]
    public void SkipsAGradientThatIsNotAskedFor()
    {
        using Tensor dRect = Tensor.FromSpan<float>([1, 2, 3, 4], [1, 2, 2]), p = Tensor.FromSpan<float>([1, 0, 0, 1], [2, 2]);
        using Tensor r = Tensor.FromSpan<float>([0.5f, 0.25f, 1, 2], [2, 2]), dr = Tensor.Empty([2, 2]);
        Rectify.Backward(dRect, p, r, null, dr);
        // dR = −dRectᵀ·P with P = I: −dRectᵀ.
        Assert.That(dr.ToFloatArray(), Is.EqualTo(new float[] { -1, -3, -2, -4 }));
    }

    [Test]
    public void RefusesToWriteOverItsInput()
    {
        using Tensor q = Tensor.Zeros([1, 2, 2]), p = Tensor.Zeros([2, 3]), r = Tensor.Zeros([2, 3]);
        Assert.Throws<ArgumentException>(() => Rectify.Forward(q, p, r, q));
    }

    [Test]
    public void ShapeErrorsNameTheOpAndBothShapes()
    {
        using Tensor q = Tensor.Zeros([1, 4, 3]), p = Tensor.Zeros([4, 8]), r = Tensor.Zeros([3, 7]), rect = Tensor.Zeros([1, 4, 3]);
        var error = Assert.Throws<TensorShapeException>(() => Rectify.Forward(q, p, r, rect));
        Assert.That(error!.Message, Does.Contain("Rectify").And.Contain("[3,7]").And.Contain("[3,8]"));
        using Tensor wrongRect = Tensor.Zeros([1, 3, 4]);
        using Tensor goodR = Tensor.Zeros([3, 8]);
        Assert.Throws<TensorShapeException>(() => Rectify.Forward(q, p, goodR, wrongRect));
    }
}
