using ReClip.Kernels.Ops;
using ReClip.Runtime.Tensors;
using ReClip.Tests.Support;

namespace ReClip.Tests.Kernels;

[TestFixture]
public sealed class LayerNormTests
{
    // float32 on both sides over rows of at most 768: agreement to a few ulps of O(1) values.
    private const double ForwardTolerance = 2e-5;

    // Gradients sum up to 768 products and subtract row means; dγ, dβ sum over up to 13 rows on top.
    private const double BackwardTolerance = 1e-4;

    // Finite differences at step 1e-2 of float32 forwards carry ~1e-4 error (see FiniteDifference).
    private const double FiniteDifferenceTolerance = 2e-3;

    private static IEnumerable<string> Cases() => OpFixture.CasesOf("layernorm");

    /// <summary>Every dump, with dx its own tensor and with dx = dy (in place: the parameter gradients must still see dy).</summary>
    private static IEnumerable<TestCaseData> Placements() =>
        Cases().SelectMany(testCase => new[] { false, true }.Select(inPlace =>
            new TestCaseData(testCase, inPlace).SetArgDisplayNames(testCase, inPlace ? "dx = dy" : "dx apart")));

    [TestCaseSource(nameof(Placements))]
    public void MatchesPyTorch(string testCase, bool inPlace)
    {
        using var fixture = new OpFixture("layernorm");
        float eps = float.Parse(fixture.Describe(testCase).Split("eps=")[1], System.Globalization.CultureInfo.InvariantCulture);
        using Tensor x = fixture.Load(testCase, "x"), gamma = fixture.Load(testCase, "gamma"), beta = fixture.Load(testCase, "beta"), dy = fixture.Load(testCase, "dy");
        int rows = x.Size(0), width = x.Size(1);
        using Tensor y = Tensor.Empty([rows, width]), mean = Tensor.Empty([rows]), rstd = Tensor.Empty([rows]);
        using Tensor apart = Tensor.Empty([rows, width]), dgamma = Tensor.Empty([width]), dbeta = Tensor.Empty([width]);
        Tensor dx = inPlace ? dy : apart;
        LayerNorm.Forward(x, gamma, beta, y, eps, mean, rstd);
        LayerNorm.Backward(dy, x, gamma, mean, rstd, dx, dgamma, dbeta);
        Assert.Multiple(() =>
        {
            Assert.That(y.ToFloatArray(), Is.EqualTo(fixture.Values(testCase, "y")).Within(ForwardTolerance));
            Assert.That(dx.ToFloatArray(), Is.EqualTo(fixture.Values(testCase, "dx")).Within(BackwardTolerance));
            Assert.That(dgamma.ToFloatArray(), Is.EqualTo(fixture.Values(testCase, "dgamma")).Within(BackwardTolerance));
            Assert.That(dbeta.ToFloatArray(), Is.EqualTo(fixture.Values(testCase, "dbeta")).Within(BackwardTolerance));
        });
    }

    /// <summary>
    /// The residual stream's form adds the same values <see cref="LayerNorm.Backward"/> writes, in one pass: equal to the
    /// bit to writing them apart and adding (what the residual blocks did before it), on every dump.
    /// </summary>
    [TestCaseSource(nameof(Cases))]
    public void BackwardAddingEqualsBackwardThenAdd(string testCase)
    {
        using var fixture = new OpFixture("layernorm");
        using Tensor x = fixture.Load(testCase, "x"), gamma = fixture.Load(testCase, "gamma"), beta = fixture.Load(testCase, "beta"), dy = fixture.Load(testCase, "dy");
        int rows = x.Size(0), width = x.Size(1);
        using Tensor y = Tensor.Empty([rows, width]), mean = Tensor.Empty([rows]), rstd = Tensor.Empty([rows]), dx = Tensor.Empty([rows, width]);
        LayerNorm.Forward(x, gamma, beta, y, 1e-5f, mean, rstd);
        float[] stream = new ReClip.Kernels.Checks.RandomTensors(3).Uniform(rows * width);
        using Tensor added = Tensor.FromSpan<float>(stream, [rows, width]), apart = Tensor.FromSpan<float>(stream, [rows, width]);
        LayerNorm.BackwardAdding(dy, x, gamma, mean, rstd, added);
        LayerNorm.Backward(dy, x, gamma, mean, rstd, dx);
        Add.Residual(apart, dx);
        Assert.That(added.ToFloatArray(), Is.EqualTo(apart.ToFloatArray()));
        Assert.That(() => LayerNorm.BackwardAdding(dy, x, gamma, mean, rstd, dy), Throws.ArgumentException.With.Message.Contains("cannot share dy's storage"));
    }

    /// <summary>The copy of x a block keeps for its backward comes from the forward's own pass: the same bits, in place too.</summary>
    [TestCaseSource(nameof(Placements))]
    public void ForwardKeepsACopyOfItsInput(string testCase, bool inPlace)
    {
        using var fixture = new OpFixture("layernorm");
        using Tensor x = fixture.Load(testCase, "x"), gamma = fixture.Load(testCase, "gamma"), beta = fixture.Load(testCase, "beta");
        int rows = x.Size(0), width = x.Size(1);
        float[] input = x.ToFloatArray();
        using Tensor apart = Tensor.Empty([rows, width]), kept = Tensor.Empty([rows, width]), plain = Tensor.Empty([rows, width]);
        Tensor y = inPlace ? x : apart;
        LayerNorm.Forward(x, gamma, beta, plain, 1e-5f);
        LayerNorm.Forward(x, gamma, beta, y, 1e-5f, keep: kept);
        Assert.That(kept.ToFloatArray(), Is.EqualTo(input));
        Assert.That(y.ToFloatArray(), Is.EqualTo(plain.ToFloatArray()));
        Assert.That(() => LayerNorm.Forward(kept, gamma, beta, plain, 1e-5f, keep: kept), Throws.ArgumentException.With.Message.Contains("apart from x and y"));
    }

    [Test]
    public void BackwardMatchesFiniteDifferences()
    {
        const int rows = 3, width = 10;
        const float eps = 1e-5f;
        var random = new ReClip.Kernels.Checks.RandomTensors(7);
        float[] x = random.Uniform(rows * width, -2, 2), gamma = random.Uniform(width, 0.5f, 1.5f), beta = random.Uniform(width), dy = random.Uniform(rows * width);
        float[] y = new float[rows * width], mean = new float[rows], rstd = new float[rows];
        double Loss(float[] input, float[] g, float[] b)
        {
            LayerNorm.Reference(input, g, b, y, mean, rstd, eps);
            return FiniteDifference.Dot(y, dy);
        }
        LayerNorm.Reference(x, gamma, beta, y, mean, rstd, eps);
        float[] dx = new float[rows * width], dgamma = new float[width], dbeta = new float[width];
        LayerNorm.BackwardReference(dy, x, gamma, mean, rstd, dx, dgamma, dbeta);
        Assert.Multiple(() =>
        {
            foreach (int i in FiniteDifference.Sample(x.Length, 12))
                Assert.That(dx[i], Is.EqualTo(FiniteDifference.Derivative(x, i, v => Loss(v, gamma, beta), 1e-2f)).Within(FiniteDifferenceTolerance), $"dx[{i}]");
            foreach (int i in FiniteDifference.Sample(width, 5))
            {
                Assert.That(dgamma[i], Is.EqualTo(FiniteDifference.Derivative(gamma, i, v => Loss(x, v, beta), 1e-2f)).Within(FiniteDifferenceTolerance), $"dgamma[{i}]");
                Assert.That(dbeta[i], Is.EqualTo(FiniteDifference.Derivative(beta, i, v => Loss(x, gamma, v), 1e-2f)).Within(FiniteDifferenceTolerance), $"dbeta[{i}]");
            }
        });
    }
}
