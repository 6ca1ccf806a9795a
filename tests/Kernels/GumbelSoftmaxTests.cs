using System.Globalization;
using ReClip.Kernels.Ops;
using ReClip.Runtime.Tensors;
using ReClip.Tests.Support;

namespace ReClip.Tests.Kernels;

[TestFixture]
public sealed class GumbelSoftmaxTests
{
    // y_soft and the mask are in [0, 1]; float32 exp and normalisation on both sides agree to a few ulps of 1.
    private const double SoftTolerance = 2e-6;

    // dlogits = (scale/τ)·y⊙(dm − Σ dm⊙y): few-ulp errors of O(1) terms, multiplied by scale/τ (up to 100).
    private const double GradientToleranceUnscaled = 2e-6;

    // The soft part at scale 2.5, τ 0.7 has third derivatives ~ (scale/τ)³ ≈ 45, so step 3e-3 keeps the
    // truncation near 1e-4, and float32 rounding of y_soft adds ~ε·C/step ≈ 1e-4 (see FiniteDifference).
    private const double FiniteDifferenceTolerance = 1e-3;

    private static IEnumerable<string> Cases() => OpFixture.CasesOf("gumbel_softmax");

    [TestCaseSource(nameof(Cases))]
    public void MatchesPyTorch(string testCase)
    {
        using var fixture = new OpFixture("gumbel_softmax");
        string[] words = fixture.Describe(testCase).Split(' ');
        float scale = float.Parse(words[1]["scale=".Length..], CultureInfo.InvariantCulture);
        float tau = float.Parse(words[2]["tau=".Length..], CultureInfo.InvariantCulture);
        using Tensor logits = fixture.Load(testCase, "logits"), noise = fixture.Load(testCase, "noise"), dMask = fixture.Load(testCase, "dmask");
        using Tensor mask = Tensor.Empty(logits.Shape), ySoft = Tensor.Empty(logits.Shape), dLogits = Tensor.Empty(logits.Shape);
        GumbelSoftmax.Forward(logits, noise, mask, ySoft, scale, tau);
        GumbelSoftmax.Backward(dMask, ySoft, dLogits, scale, tau);
        Assert.Multiple(() =>
        {
            Assert.That(mask.ToFloatArray(), Is.EqualTo(fixture.Values(testCase, "mask")).Within(SoftTolerance));
            Assert.That(ySoft.ToFloatArray(), Is.EqualTo(fixture.Values(testCase, "ysoft")).Within(SoftTolerance));
            Assert.That(dLogits.ToFloatArray(), Is.EqualTo(fixture.Values(testCase, "dlogits")).Within(GradientToleranceUnscaled * scale / tau));
        });
    }

    [Test]
    public void BackwardIsTheGradientOfTheSoftPart()
    {
        const int rows = 4, classes = 5;
        const float scale = 2.5f, tau = 0.7f;
        var random = new ReClip.Kernels.Checks.RandomTensors(3);
        float[] logits = random.Uniform(rows * classes), dMask = random.Uniform(rows * classes), noise = new float[rows * classes];
        GumbelSoftmax.Noise(9, 0, 0, noise);
        float[] mask = new float[rows * classes], ySoft = new float[rows * classes], dLogits = new float[rows * classes];
        // The hard mask is piecewise constant; the straight-through gradient is that of Σ dmask⊙y_soft.
        double Loss(float[] input)
        {
            GumbelSoftmax.Reference(input, noise, mask, ySoft, classes, scale, tau);
            return FiniteDifference.Dot(ySoft, dMask);
        }
        GumbelSoftmax.Reference(logits, noise, mask, ySoft, classes, scale, tau);
        GumbelSoftmax.BackwardReference(dMask, ySoft, dLogits, classes, scale, tau);
        Assert.Multiple(() =>
        {
            foreach (int i in FiniteDifference.Sample(logits.Length, 12))
                Assert.That(dLogits[i], Is.EqualTo(FiniteDifference.Derivative(logits, i, Loss, 3e-3f)).Within(FiniteDifferenceTolerance), $"dlogits[{i}]");
        });
    }

    [Test]
    public void SeededNoiseIsTheNoiseOfPhilox()
    {
        const int rows = 37, classes = 19;
        const ulong seed = 77, stream = 5;
        var random = new ReClip.Kernels.Checks.RandomTensors(4);
        float[] values = random.Uniform(rows * classes, -0.05f, 0.05f), noise = new float[rows * classes];
        GumbelSoftmax.Noise(seed, stream, 0, noise);
        using Tensor logits = Tensor.FromSpan<float>(values, [rows, classes]), given = Tensor.FromSpan<float>(noise, [rows, classes]);
        using Tensor mask = Tensor.Empty([rows, classes]), ySoft = Tensor.Empty([rows, classes]);
        using Tensor expectedMask = Tensor.Empty([rows, classes]), expectedSoft = Tensor.Empty([rows, classes]);
        GumbelSoftmax.Forward(logits, seed, stream, mask, ySoft);
        GumbelSoftmax.Forward(logits, given, expectedMask, expectedSoft);
        Assert.Multiple(() =>
        {
            // Same noise, same arithmetic: bit-identical.
            Assert.That(mask.ToFloatArray(), Is.EqualTo(expectedMask.ToFloatArray()));
            Assert.That(ySoft.ToFloatArray(), Is.EqualTo(expectedSoft.ToFloatArray()));
            Assert.That(noise[classes + 2], Is.EqualTo(-MathF.Log(-MathF.Log(ReClip.Kernels.Random.Philox.Uniform(seed, stream, (ulong)classes + 2)))).Within(1e-6));
        });
    }

    [Test]
    public void AnOffsetDrawsTheNoiseOfTheRowsItStartsAt()
    {
        const int rows = 10, classes = 7, first = 4;
        const ulong seed = 3, stream = 9;
        var random = new ReClip.Kernels.Checks.RandomTensors(5);
        using Tensor logits = Tensor.FromSpan<float>(random.Uniform(rows * classes, -0.05f, 0.05f), [rows, classes]);
        using Tensor tail = logits.Slice(0, first, rows - first).Clone();
        using Tensor mask = Tensor.Empty([rows, classes]), ySoft = Tensor.Empty([rows, classes]);
        using Tensor tailMask = Tensor.Empty(tail.Shape), tailSoft = Tensor.Empty(tail.Shape);
        GumbelSoftmax.Forward(logits, seed, stream, mask, ySoft);
        GumbelSoftmax.Forward(tail, seed, stream, tailMask, tailSoft, firstIndex: first * classes);
        Assert.That(tailSoft.ToFloatArray(), Is.EqualTo(ySoft.ToFloatArray()[(first * classes)..]), "the same bits as in the whole batch");
        Assert.That(tailMask.ToFloatArray(), Is.EqualTo(mask.ToFloatArray()[(first * classes)..]));
    }

    [Test]
    public void MaskIsOneHotAtTheModelScale()
    {
        const int rows = 441, classes = 20;
        var random = new ReClip.Kernels.Checks.RandomTensors(6);
        using Tensor logits = Tensor.FromSpan<float>(random.Uniform(rows * classes, -2, 2), [rows, classes]);
        using Tensor mask = Tensor.Empty([rows, classes]), ySoft = Tensor.Empty([rows, classes]);
        GumbelSoftmax.Forward(logits, 1, 0, mask, ySoft);
        float[] values = mask.ToFloatArray();
        // (y_hard − y_soft) + y_soft is y_hard up to one rounding: |error| ≤ ulp(1) = 1.2e-7.
        Assert.That(values.Select(v => Math.Min(Math.Abs(v), Math.Abs(v - 1))), Is.All.LessThanOrEqualTo(1.2e-7));
        for (int r = 0; r < rows; r++)
            Assert.That(values.AsSpan(r * classes, classes).ToArray().Count(v => v > 0.5f), Is.EqualTo(1), $"row {r}");
    }

    [Test]
    public void TiesGoToTheFirstMaximum()
    {
        float[] logits = [0.5f, 0.7f, 0.7f, 0.1f], noise = new float[4], mask = new float[4], ySoft = new float[4];
        GumbelSoftmax.Reference(logits, noise, mask, ySoft, 4, scale: 1);
        using Tensor tl = Tensor.FromSpan<float>(logits, [1, 4]), tn = Tensor.Zeros([1, 4]), tm = Tensor.Empty([1, 4]), ty = Tensor.Empty([1, 4]);
        GumbelSoftmax.Forward(tl, tn, tm, ty, scale: 1);
        Assert.Multiple(() =>
        {
            Assert.That(mask.Select(v => MathF.Round(v)), Is.EqualTo(new float[] { 0, 1, 0, 0 }));
            Assert.That(tm.ToFloatArray().Select(v => MathF.Round(v)), Is.EqualTo(new float[] { 0, 1, 0, 0 }));
        });
    }

    [Test]
    public void NoiseFollowsTheGumbelDistribution()
    {
        const int count = 1 << 18;
        float[] noise = new float[count];
        GumbelSoftmax.Noise(123, 0, 0, noise);
        double mean = noise.Average(v => (double)v), variance = noise.Average(v => (v - mean) * (v - mean));
        Assert.Multiple(() =>
        {
            // Gumbel(0,1): mean = Euler–Mascheroni γ, variance σ² = π²/6, excess kurtosis 12/5. Bounds are 5 standard
            // deviations of the sample statistics: √(σ²/n) for the mean, √((μ₄ − σ⁴)/n) = √(4.4·σ⁴/n) for the variance.
            double sigma2 = Math.PI * Math.PI / 6;
            Assert.That(mean, Is.EqualTo(0.5772156649).Within(5 * Math.Sqrt(sigma2 / count)));
            Assert.That(variance, Is.EqualTo(sigma2).Within(5 * Math.Sqrt(4.4 * sigma2 * sigma2 / count)));
            Assert.That(noise, Is.All.Matches<float>(float.IsFinite));
        });
    }

    [Test]
    public void NoiseOfTheWrongShapeIsRefused()
    {
        using Tensor logits = Tensor.Zeros([3, 4]), noise = Tensor.Zeros([4, 3]), mask = Tensor.Empty([3, 4]), ySoft = Tensor.Empty([3, 4]);
        var error = Assert.Throws<TensorShapeException>(() => GumbelSoftmax.Forward(logits, noise, mask, ySoft));
        Assert.That(error!.Message, Does.Contain("GumbelSoftmax").And.Contain("[4,3]").And.Contain("[3,4]"));
    }
}
