using ReClip.Model.Clip;
using ReClip.Model.ReClip;
using ReClip.Runtime.Tensors;

namespace ReClip.Tests.Model;

/// <summary>The head's parts on their own: the Query bank, the Reference prompt, pe_proj and the decoder (init, values, shape errors).</summary>
[TestFixture]
public sealed class ReClipComponentTests
{
    /// <summary>Unit rows in f32 against float64 through two text blocks (~1e-6 measured for the text tower).</summary>
    private const double UnitRowTolerance = 1e-5;

    /// <summary>A 1×1 conv of 128 terms per value in f32 vs float64.</summary>
    private const double ProjectionTolerance = 1e-5;

    private ReClipStepFixture step = null!;

    [OneTimeSetUp]
    public void Open() => step = new ReClipStepFixture();

    [OneTimeTearDown]
    public void Close() => step.Dispose();

    [Test]
    public void TemplatesAreTheSpecsEightyFive()
    {
        Assert.That(QueryBank.Templates, Has.Count.EqualTo(85));
        Assert.That(QueryBank.Templates, Is.Unique);
        Assert.That(QueryBank.Templates[0], Is.EqualTo("a bad photo of a {}."));
        Assert.That(QueryBank.Templates[39], Is.EqualTo("a photo of a {}."));
        Assert.That(QueryBank.Templates[79], Is.EqualTo("a tattoo of the {}."));
        Assert.That(QueryBank.Templates[84], Is.EqualTo("this is one {} in the scene."));
        Assert.That(QueryBank.Templates.All(t => t.Split("{}").Length == 2), Is.True, "one slot per template");
        Assert.That(QueryBank.Fill(QueryBank.Templates[35], "potted plant"), Is.EqualTo("a potted plant in a video game."));
    }

    [Test]
    public void QueryBankMatchesTheReference()
    {
        var text = new TextTransformer(step.Weights);
        using Tensor bank = QueryBank.Build(text, step.Ints("query_ids"), classes: 4);
        Assert.That(bank.Shape.ToArray(), Is.EqualTo(new[] { 4, step.Weights.Config.EmbedDim }));
        Assert.That(ClipFixture.MaxAbs(bank.ToFloatArray(), step.Values("query")), Is.LessThan(UnitRowTolerance));
    }

    [Test]
    public void QueryBankRejectsIdsThatAreNotWholeRows()
    {
        var text = new TextTransformer(step.Weights);
        Assert.Throws<ArgumentException>(() => QueryBank.Build(text, new int[16 * 3 + 1], classes: 1));
        Assert.Throws<ArgumentException>(() => QueryBank.Build(text, new int[16 * 3], classes: 2));
    }

    [Test]
    public void QueryBankNamesAClassWhosePromptsDoNotFit()
    {
        // The fixture's text tower reads 16 tokens; a name of 20 words makes every prompt longer.
        var text = new TextTransformer(step.Weights);
        string longName = string.Join(' ', Enumerable.Repeat("word", 20));
        var error = Assert.Throws<ArgumentException>(() => QueryBank.Build(text, ClipTokenizer.Default, ["sky", longName]));
        Assert.That(error!.Message, Does.StartWith("class 2 of 2, \"word word word").And.Contain("more than the context length 16").And.Contain("…"));
        Assert.That(error.Message, Has.Length.LessThan(300), "the prompt is cut short (a whole one runs to some 1,000 characters)");
    }

    [TestCase(new[] { 7 }, new[] { 7, 299, 0 })]
    [TestCase(new[] { 7, 8 }, new[] { 7, 8, 299 })]
    [TestCase(new[] { 7, 8, 9 }, new[] { 7, 8, 9 })]
    [TestCase(new[] { 7, 8, 9, 10 }, new[] { 7, 8, 9 })]
    public void SlotIdsFollowTheTokenizeWindow(int[] tokens, int[] expected) =>
        Assert.That(ReferencePrompt.SlotIds([tokens], endToken: 299), Is.EqualTo(expected));

    /// <summary>Spec §2.2's ≥3-token ADE names with CLIP's own BPE: the first three ids, EOT dropped.</summary>
    [TestCase("skyscraper", new[] { 3075, 11187, 1284 })]
    [TestCase("chest of drawers", new[] { 10563, 539, 38975 })]
    public void SlotIdsOfLongNamesUnderClipsTokenizer(string name, int[] expected) =>
        Assert.That(ReferencePrompt.SlotIds(ClipTokenizer.Default, [name]), Is.EqualTo(expected));

    [Test]
    public void PromptStartsFromTokenZeroAndIsFrobeniusNormalised()
    {
        var text = new TextTransformer(step.Weights);
        using var prompt = new ReferencePrompt(text, step.Ints("slots"));
        int width = step.Weights.Config.TextWidth;
        Assert.That(prompt.Context.Shape.ToArray(), Is.EqualTo(new[] { 12, width }), "M = 16 − 1 − 3");
        float[] row0 = step.Weights.TokenEmbedding.ToFloatArray()[..width], context = prompt.Context.ToFloatArray();
        for (int m = 0; m < 12; m++)
            Assert.That(context[(m * width)..((m + 1) * width)], Is.EqualTo(row0), $"context row {m}");

        step.Values("init.prompt").CopyTo(prompt.Context.AsSpan<float>());
        using ReferenceActivations a = prompt.Forward();
        double squares = a.Reference.ToFloatArray().Sum(v => (double)v * v);
        Assert.That(squares, Is.EqualTo(1).Within(1e-6), "Σ_c ‖r_c‖² = 1");
        Assert.That(ClipFixture.MaxAbs(a.Reference.ToFloatArray(), step.Values("reference")), Is.LessThan(UnitRowTolerance));
    }

    /// <summary>
    /// The Frobenius division makes R invariant to scaling raw, so a gradient along R itself (dR = R) must give
    /// d(context) = 0; without the division's derivative it would not. Compared with a generic dR's gradient.
    /// </summary>
    [Test]
    public void RadialGradientVanishesThroughTheFrobeniusNorm()
    {
        var text = new TextTransformer(step.Weights);
        using var prompt = new ReferencePrompt(text, step.Ints("slots"));
        step.Values("init.prompt").CopyTo(prompt.Context.AsSpan<float>());
        using ReferenceActivations a = prompt.Forward();
        using Tensor radial = prompt.Backward(a, a.Reference);
        using Tensor generic = prompt.Backward(a, step.Load("query"));
        double radialMax = radial.ToFloatArray().Max(Math.Abs), genericMax = generic.ToFloatArray().Max(Math.Abs);
        TestContext.Out.WriteLine($"radial {radialMax:G3}, generic {genericMax:G3}");
        Assert.That(genericMax, Is.GreaterThan(1e-3));
        Assert.That(radialMax, Is.LessThan(1e-4 * genericMax));
    }

    [Test]
    public void PromptRejectsBadSlotIds()
    {
        var text = new TextTransformer(step.Weights);
        Assert.Throws<ArgumentException>(() => new ReferencePrompt(text, [1, 2]));
        Assert.Throws<ArgumentOutOfRangeException>(() => new ReferencePrompt(text, [1, 2, 300]));
        Assert.Throws<ArgumentException>(() => ReferencePrompt.SlotIds([[]], 299));
    }

    [Test]
    public void PeProjInitIsUniformWithinOneOverRootFanInAndSeeded()
    {
        using var first = new BiasExtractor(128, 64, seed: 5);
        using var same = new BiasExtractor(128, 64, seed: 5);
        using var other = new BiasExtractor(128, 64, seed: 6);
        float bound = 1 / MathF.Sqrt(128);
        float[] w = first.Weight.ToFloatArray();
        Assert.That(first.Weight.Shape.ToArray(), Is.EqualTo(new[] { 64, 128, 1, 1 }));
        Assert.That(w.Max(Math.Abs), Is.LessThanOrEqualTo(bound).And.GreaterThan(0.95 * bound));
        Assert.That(first.Bias.ToFloatArray().Max(Math.Abs), Is.LessThanOrEqualTo(bound));
        // U(−b, b) has variance b²/3; 8192 draws estimate it within a few per cent.
        Assert.That(w.Average(v => (double)v * v), Is.EqualTo(bound * bound / 3).Within(5).Percent);
        Assert.That(same.Weight.ToFloatArray(), Is.EqualTo(w));
        Assert.That(other.Weight.ToFloatArray(), Is.Not.EqualTo(w));
    }

    [Test]
    public void PeProjMatchesTheReference()
    {
        using var extractor = new BiasExtractor(step.Weights.Config.VisionWidth, step.Weights.Config.EmbedDim, seed: 1);
        step.Values("init.pe_proj.weight").CopyTo(extractor.Weight.AsSpan<float>());
        step.Values("init.pe_proj.bias").CopyTo(extractor.Bias.AsSpan<float>());
        using Tensor grid = step.Load("grid");
        using Tensor p = extractor.Forward(grid);
        Assert.That(ClipFixture.MaxRelative(p.ToFloatArray(), step.Values("positional")), Is.LessThan(ProjectionTolerance));
        using Tensor narrow = Tensor.Zeros([16, 64]);
        Assert.Throws<TensorShapeException>(() => extractor.Forward(narrow));

        // Bias = P·Rᵀ is what the reference subtracted from Q: Q − Rect for every image.
        using Tensor reference = step.Load("reference");
        using Tensor bias = BiasExtractor.BiasLogits(p, reference);
        float[] q = step.Values("q"), rect = step.Values("rectified"), b = bias.ToFloatArray();
        for (int image = 0; image < 3; image++)
        {
            float[] expected = [.. Enumerable.Range(0, b.Length).Select(i => q[image * b.Length + i] - rect[image * b.Length + i])];
            // Q − Rect loses the bias's low bits against Q's magnitude (f32 rounding of both dumps): absolute 1e-6.
            Assert.That(ClipFixture.MaxAbs(b, expected), Is.LessThan(1e-6), $"image {image}");
        }
        using Tensor wrongR = Tensor.Zeros([4, 32]);
        Assert.Throws<TensorShapeException>(() => BiasExtractor.BiasLogits(p, wrongR));
    }

    [Test]
    public void DecoderInitFollowsKaimingFanOutAndPyTorchDefaults()
    {
        using var decoder = new MaskDecoder(embedDim: 64, classes: 20, seed: 3);
        Assert.That(decoder.ConvWeight.Shape.ToArray(), Is.EqualTo(new[] { 20, 84, 5, 5 }));
        float[] w = decoder.ConvWeight.ToFloatArray();
        double sigma = Math.Sqrt(2.0 / (25 * 20)), mean = w.Average(v => (double)v);
        double std = Math.Sqrt(w.Average(v => (v - mean) * (v - mean)));
        // 42,000 normal draws: the standard deviation is estimated within ~0.4 %, the mean within ~0.005σ.
        Assert.That(std, Is.EqualTo(sigma).Within(2).Percent);
        Assert.That(Math.Abs(mean), Is.LessThan(0.02 * sigma));
        Assert.That(decoder.ConvBias.ToFloatArray().Max(Math.Abs), Is.LessThanOrEqualTo(1 / Math.Sqrt(25 * 84)));
        Assert.That(decoder.Gamma.ToFloatArray(), Is.All.EqualTo(1f));
        Assert.That(decoder.Beta.ToFloatArray(), Is.All.EqualTo(0f));
        Assert.That(decoder.RunningMean.ToFloatArray(), Is.All.EqualTo(0f));
        Assert.That(decoder.RunningVar.ToFloatArray(), Is.All.EqualTo(1f));
    }

    [Test]
    public void DecoderMatchesTheReferenceAndEvalUsesRunningStatistics()
    {
        using var decoder = new MaskDecoder(step.Weights.Config.EmbedDim, 4, seed: 1);
        foreach ((string name, Tensor t) in new[] { ("decoder_conv2.weight", decoder.ConvWeight), ("decoder_conv2.bias", decoder.ConvBias),
            ("decoder_norm2.weight", decoder.Gamma), ("decoder_norm2.bias", decoder.Beta) })
            step.Values("init." + name).CopyTo(t.AsSpan<float>());
        using Tensor features = step.Load("features");
        using Tensor rect = step.Load("rectified");
        int rows = step.Rows, columns = step.Columns;
        using (DecoderActivations train = decoder.Forward(features, rect, rows, columns, training: true))
            Assert.That(ClipFixture.MaxRelative(train.Output.ToFloatArray(), step.Values("output")), Is.LessThan(1e-4));
        Assert.That(ClipFixture.MaxRelative(decoder.RunningVar.ToFloatArray(), step.Values("after.running_var")), Is.LessThan(1e-4));
        using DecoderActivations eval = decoder.Forward(features, rect, rows, columns, training: false);
        Assert.That(ClipFixture.MaxRelative(eval.Output.ToFloatArray(), step.Values("output")), Is.GreaterThan(1e-2), "eval is not batch-normalised");
        using Tensor wrong = Tensor.Zeros([3, rows * columns, 5]);
        Assert.Throws<TensorShapeException>(() => decoder.Forward(features, wrong, rows, columns, training: true));
        Assert.Throws<TensorShapeException>(() => decoder.Forward(features, rect, rows, columns + 1, training: true));
    }
}
