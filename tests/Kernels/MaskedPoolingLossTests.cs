using System.Globalization;
using ReClip.Kernels.Ops;
using ReClip.Runtime.Tensors;
using ReClip.Tests.Support;

namespace ReClip.Tests.Kernels;

[TestFixture]
public sealed class MaskedPoolingLossTests
{
    // The loss is a cross-entropy over logits of magnitude ≤ 100·|p_i| (a few units) formed in float32 on both sides.
    private const double LossTolerance = 1e-5;

    // dmask entries are (1/N)·⟨F[n], 100·dz·T⟩ ≈ 100/(N·|S|) at most; float32 GEMMs over C and E agree to ~1e-6 relative.
    private const double GradientTolerance = 1e-6;

    // At logit scale 10 and N = 9 the loss changes by O(1) per unit of mask, with third derivatives of order 1,
    // so step 1e-2 gives ~1e-5 truncation; the reference's float32 loss adds ε·|L|/step ≈ 2e-5 (see FiniteDifference).
    private const double FiniteDifferenceTolerance = 1e-3;

    private static IEnumerable<string> Cases() => OpFixture.CasesOf("masked_pooling_loss");

    /// <summary>A fixture case's hypothesis lists and logit scale, from its description.</summary>
    private static (int[][] Hypotheses, float Scale) Settings(OpFixture fixture, string testCase)
    {
        string[] words = fixture.Describe(testCase).Split(' ');
        int[][] hypotheses = words[1]["classes=".Length..].Split(';')
            .Select(list => list.Length == 0 ? [] : list.Split(',').Select(id => int.Parse(id, CultureInfo.InvariantCulture)).ToArray()).ToArray();
        return (hypotheses, float.Parse(words[2]["scale=".Length..], CultureInfo.InvariantCulture));
    }

    [TestCaseSource(nameof(Cases))]
    public void MatchesPyTorchUnderTheBatchRule(string testCase)
    {
        using var fixture = new OpFixture("masked_pooling_loss");
        (int[][] hypotheses, float scale) = Settings(fixture, testCase);
        using Tensor features = fixture.Load(testCase, "features"), mask = fixture.Load(testCase, "mask"), text = fixture.Load(testCase, "text");
        int batch = features.Size(0), patches = features.Size(1), width = features.Size(2), classCount = text.Size(0);
        float[] expectedGradient = fixture.Values(testCase, "dmask");
        // Spec §7: the batch loss is Σ_j L_j / B, so each image's backward gets gradLoss = 1/B.
        double total = 0;
        for (int j = 0; j < batch; j++)
        {
            int[] classes = hypotheses[j];
            using Tensor f = features.Slice(0, j, 1).Reshape(patches, width), m = mask.Slice(0, j, 1).Reshape(patches, classCount);
            using Tensor probabilities = Tensor.Empty([classes.Length, classCount]), dMask = Tensor.Empty([patches, classCount]);
            total += MaskedPoolingLoss.Forward(f, m, classes, text, probabilities, scale);
            MaskedPoolingLoss.Backward(f, text, classes, probabilities, dMask, 1f / batch, scale);
            Assert.That(dMask.ToFloatArray(), Is.EqualTo(expectedGradient.AsSpan(j * patches * classCount, patches * classCount).ToArray()).Within(GradientTolerance), $"dmask of image {j}");
        }
        Assert.That(total / batch, Is.EqualTo(fixture.Values(testCase, "loss")[0]).Within(LossTolerance));
    }

    [Test]
    public void BackwardMatchesFiniteDifferences()
    {
        const int patches = 9, classCount = 6, width = 5;
        const float scale = 10, gradLoss = 0.5f;
        int[] classes = [4, 1, 2];
        var random = new ReClip.Kernels.Checks.RandomTensors(8);
        float[] features = random.Uniform(patches * width), text = random.Uniform(classCount * width), mask = random.Uniform(patches * classCount, 0, 1);
        float[] probabilities = new float[classes.Length * classCount], dMask = new float[mask.Length];
        double Loss(float[] m) => gradLoss * MaskedPoolingLoss.Reference(features, m, classes, text, classCount, probabilities, scale);
        Loss(mask);
        MaskedPoolingLoss.BackwardReference(features, text, classes, probabilities, dMask, classCount, gradLoss, scale);
        Assert.Multiple(() =>
        {
            foreach (int i in FiniteDifference.Sample(mask.Length, 20))
                Assert.That(dMask[i], Is.EqualTo(FiniteDifference.Derivative(mask, i, Loss, 1e-2f)).Within(FiniteDifferenceTolerance), $"dmask[{i}]");
            // Columns outside the hypothesis do not enter the loss.
            for (int n = 0; n < patches; n++)
                Assert.That(new[] { dMask[n * classCount], dMask[n * classCount + 3], dMask[n * classCount + 5] }, Is.All.Zero, $"row {n}");
        });
    }

    [Test]
    public void AnEmptyHypothesisGivesZeroLossAndGradient()
    {
        using Tensor features = Tensor.FromSpan<float>([1, 0, 0, 1], [2, 2]), mask = Tensor.FromSpan<float>([1, 0, 0, 1], [2, 2]);
        using Tensor text = Tensor.FromSpan<float>([1, 0, 0, 1], [2, 2]), probabilities = Tensor.Empty([0, 2]);
        using Tensor dMask = Tensor.FromSpan<float>([9, 9, 9, 9], [2, 2]);
        Assert.That(MaskedPoolingLoss.Forward(features, mask, [], text, probabilities), Is.Zero);
        MaskedPoolingLoss.Backward(features, text, [], probabilities, dMask);
        Assert.That(dMask.ToFloatArray(), Is.All.Zero);
    }

    [Test]
    public void APerfectMaskOfOrthogonalFeaturesGivesTheClosedForm()
    {
        // F = T = I (2×2), each patch assigned its own class: p_i = e_i/2, z_i = 50·e_i, L = log(1 + e^−50).
        using Tensor identity = Tensor.FromSpan<float>([1, 0, 0, 1], [2, 2]), probabilities = Tensor.Empty([2, 2]);
        float loss = MaskedPoolingLoss.Forward(identity, identity, [0, 1], identity, probabilities);
        Assert.That(loss, Is.EqualTo(Math.Log(1 + Math.Exp(-50))).Within(1e-25));
    }

    /// <summary>The whole batch in one call, as a training step makes it: the same loss sum and dMask (on the CPU the same arithmetic).</summary>
    [TestCaseSource(nameof(Cases))]
    public void TheBatchInOneCallMatchesPyTorch(string testCase)
    {
        using var fixture = new OpFixture("masked_pooling_loss");
        (int[][] hypotheses, float scale) = Settings(fixture, testCase);
        using Tensor features = fixture.Load(testCase, "features"), mask = fixture.Load(testCase, "mask"), text = fixture.Load(testCase, "text");
        int batch = features.Size(0);
        using Tensor total = MaskedPoolingLoss.NewTotal(Device.Cpu), dMask = Tensor.Empty(mask.Shape);
        MaskedPoolingLoss.ForwardBackward(features, mask, hypotheses, text, total, dMask, 1f / batch, scale);
        Assert.That(dMask.ToFloatArray(), Is.EqualTo(fixture.Values(testCase, "dmask")).Within(GradientTolerance));
        Assert.That(MaskedPoolingLoss.ReadTotal(total) / batch, Is.EqualTo(fixture.Values(testCase, "loss")[0]).Within(LossTolerance));
    }

    [Test]
    public void TheBatchsHypothesesAreChecked()
    {
        using Tensor features = Tensor.Zeros([2, 3, 2]), mask = Tensor.Zeros([2, 3, 4]), text = Tensor.Zeros([4, 2]);
        using Tensor total = MaskedPoolingLoss.NewTotal(Device.Cpu), dMask = Tensor.Empty([2, 3, 4]);
        Assert.Multiple(() =>
        {
            Assert.That(() => MaskedPoolingLoss.ForwardBackward(features, mask, [[0], [2, 2]], text, total, dMask, 0.5f),
                Throws.ArgumentException.With.Message.Contains("image 1").And.Message.Contains("class 2 twice"));
            Assert.That(() => MaskedPoolingLoss.ForwardBackward(features, mask, [[4], []], text, total, dMask, 0.5f),
                Throws.InstanceOf<ArgumentOutOfRangeException>().With.Message.Contains("outside 0..3"));
            Assert.That(() => MaskedPoolingLoss.ForwardBackward(features, mask, [[0]], text, total, dMask, 0.5f),
                Throws.ArgumentException.With.Message.Contains("1 hypothesis lists for a batch of 2"));
            Assert.That(MaskedPoolingLoss.Membership([[3, 0], []], 4), Is.EqualTo(new[] { 1, 0, 0, 1, 0, 0, 0, 0 }));
        });
    }

    [Test]
    public void HypothesisIdsAreChecked()
    {
        using Tensor features = Tensor.Zeros([3, 2]), mask = Tensor.Zeros([3, 4]), text = Tensor.Zeros([4, 2]);
        using Tensor two = Tensor.Empty([2, 4]), one = Tensor.Empty([1, 4]);
        Assert.Multiple(() =>
        {
            Assert.Throws<ArgumentException>(() => MaskedPoolingLoss.Forward(features, mask, [1, 1], text, two));
            Assert.Throws<ArgumentOutOfRangeException>(() => MaskedPoolingLoss.Forward(features, mask, [4], text, one));
            var error = Assert.Throws<TensorShapeException>(() => MaskedPoolingLoss.Forward(features, mask, [1], text, two));
            Assert.That(error!.Message, Does.Contain("MaskedPoolingLoss").And.Contain("[2,4]").And.Contain("[1,4]"));
        });
    }
}
