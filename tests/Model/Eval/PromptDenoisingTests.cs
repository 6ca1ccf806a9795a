using ReClip.Model.Eval;
using ReClip.Runtime.Tensors;

namespace ReClip.Tests.Model.Eval;

[TestFixture]
public sealed class PromptDenoisingTests
{
    /// <summary>
    /// Logits [3 classes, 1, 4 patches]. Patch 0: class 0 leads by 2 (10Δ = 20, exp(−20) ≈ 2·10⁻⁹ ≤ 2⁻²⁴), so its
    /// P is exactly 1.0f. Patch 1: class 1 leads by 1 (exp(−10) ≈ 4.5·10⁻⁵), P ≈ 0.99991. Patch 2: class 2 leads
    /// by 1.5 (exp(−15) ≈ 3·10⁻⁷ > 2⁻²⁴), P just below 1. Patch 3: a three-way tie, P = 1/3.
    /// </summary>
    private static readonly float[] Crafted =
    [
        2, 0, 0, 0,
        0, 1, 0, 0,
        0, 0, 1.5f, 0,
    ];

    [Test]
    public void ClassMaximaFollowFloat32Rounding()
    {
        using Tensor logits = Tensor.FromSpan<float>(Crafted, [3, 1, 4]);
        float[] maxima = PromptDenoising.ClassMaxima(logits);
        Assert.Multiple(() =>
        {
            Assert.That(maxima[0], Is.EqualTo(1.0f), "S rounds to 1 when the other terms are ≤ 2⁻²⁴");
            Assert.That(maxima[1], Is.LessThan(1.0f).And.GreaterThan(0.9999f));
            Assert.That(maxima[2], Is.LessThan(1.0f).And.GreaterThan(0.999999f));
        });
    }

    [Test]
    public void ThresholdOneKeepsOnlyClassesWhoseProbabilityRoundsToOne()
    {
        using Tensor logits = Tensor.FromSpan<float>(Crafted, [3, 1, 4]);
        bool[] kept = PromptDenoising.Apply(logits, 1.0f);
        float[] expected = [2, 0, 0, 0, -100, -100, -100, -100, -100, -100, -100, -100];
        Assert.Multiple(() =>
        {
            Assert.That(kept, Is.EqualTo(new[] { true, false, false }));
            Assert.That(logits.AsSpan<float>().ToArray(), Is.EqualTo(expected));
        });
    }

    [Test]
    public void ThresholdOneHalfKeepsEveryClassThatWinsClearlySomewhere()
    {
        // A fourth class, logit 0 everywhere: its best is the four-way tie of patch 3, P = 1/4 < 1/2.
        float[] values = [.. Crafted, 0, 0, 0, 0];
        using Tensor logits = Tensor.FromSpan<float>(values, [1, 4, 1, 4]);
        bool[] kept = PromptDenoising.Apply(logits, 0.5f);
        float[] result = logits.AsSpan<float>().ToArray();
        Assert.Multiple(() =>
        {
            Assert.That(kept, Is.EqualTo(new[] { true, true, true, false }));
            Assert.That(result[..12], Is.EqualTo(Crafted), "kept classes are untouched");
            Assert.That(result[12..], Is.All.EqualTo(PromptDenoising.RemovedLogit));
        });
    }

    [Test]
    public void RemovingEveryClassLeavesATieThatArgmaxGivesToClassZero()
    {
        using Tensor logits = Tensor.FromSpan<float>([0.1f, 0, 0, 0.1f], [2, 1, 2]);
        Assert.That(PromptDenoising.Apply(logits, 1.0f), Is.EqualTo(new[] { false, false }));
        using Tensor prediction = Upsampling.Predict(logits, 3, 3, 2, 2);
        Assert.That(prediction.AsSpan<int>().ToArray(), Is.All.Zero);
    }

    [Test]
    public void WrongShapeIsAnError()
    {
        using Tensor logits = Tensor.Zeros([2, 2, 1, 1]);
        Assert.That(() => PromptDenoising.Apply(logits, 1), Throws.TypeOf<TensorShapeException>().With.Message.Contain("[2,2,1,1]"));
    }
}
