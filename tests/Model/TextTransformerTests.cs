using ReClip.Model.Clip;
using ReClip.Runtime.Tensors;

namespace ReClip.Tests.Model;

/// <summary>The text tower and the Reference prompt against tools/reference/clip_ref.py, and shared prefix against plain.</summary>
[TestFixture]
public sealed class TextTransformerTests
{
    /// <summary>Unit-norm features, as for the image tower (f32 vs float64 of two blocks: ~1e-6).</summary>
    private const double FeatureTolerance = 1e-4;

    /// <summary>
    /// Shared prefix vs plain: the same f32 operations on the same rows, only the attention GEMMs' blocking
    /// differs, so they agree to a few ulps of the features' magnitude.
    /// </summary>
    private const double SharedTolerance = 1e-5;

    /// <summary>The context gradient passes two blocks' backward in f32; relative to its largest element.</summary>
    private const double GradientTolerance = 1e-4;

    private const int SlotCount = 3;

    private ClipFixture fixture = null!;

    [OneTimeSetUp]
    public void Open() => fixture = new ClipFixture();

    [OneTimeTearDown]
    public void Close() => fixture.Dispose();

    [TestCaseSource(typeof(ClipFixture), nameof(ClipFixture.WeightFiles))]
    public void TokenSequencesMatch(string file)
    {
        using ClipWeights weights = ClipWeights.Load(ClipFixture.PathOf(file));
        var text = new TextTransformer(weights);
        var seen = new Dictionary<string, float[]>();
        using Tensor features = text.Encode(fixture.Ints("text_ids"), (name, t) => seen[name] = t.ToFloatArray());
        foreach ((string name, float[] values) in seen)
            Assert.That(ClipFixture.MaxRelative(values, fixture.Values("text." + name)), Is.LessThan(1e-5), name);
        int embed = weights.Config.EmbedDim;
        Assert.That(ClipFixture.MaxAbs(ClipFixture.NormalizeRows(features.ToFloatArray(), embed),
            ClipFixture.NormalizeRows(fixture.Values("text"), embed)), Is.LessThan(FeatureTolerance));
    }

    /// <summary>
    /// Without an observer the positions after the last EOT are skipped; the features must be those of the full
    /// sequences (the causal mask keeps later positions out of earlier rows; the GEMMs' per-row sums do not depend on
    /// the row count, so equal to the last bit).
    /// </summary>
    [Test]
    public void SkippingThePaddingAfterTheLastEotChangesNoFeature()
    {
        using ClipWeights weights = ClipWeights.Load(ClipFixture.PathOf("weights_openai.safetensors"));
        var text = new TextTransformer(weights);
        int[] ids = fixture.Ints("text_ids");
        using Tensor skipped = text.Encode(ids);
        using Tensor full = text.Encode(ids, (_, _) => { });
        Assert.That(skipped.ToFloatArray(), Is.EqualTo(full.ToFloatArray()));
    }

    [TestCaseSource(typeof(ClipFixture), nameof(ClipFixture.WeightFiles))]
    public void ReferencePromptMatchesPlainAndShared(string file)
    {
        using ClipWeights weights = ClipWeights.Load(ClipFixture.PathOf(file));
        var text = new TextTransformer(weights);
        using Tensor context = fixture.Load("prompt_context");
        int[] slots = fixture.Ints("prompt_slots");
        float[] expected = ClipFixture.NormalizeRows(fixture.Values("prompt_features"), weights.Config.EmbedDim);
        using Tensor plain = text.EncodePrompt(context, slots, SlotCount);
        using Tensor shared = text.EncodePromptShared(context, slots, SlotCount);
        Assert.That(ClipFixture.MaxAbs(ClipFixture.NormalizeRows(plain.ToFloatArray(), weights.Config.EmbedDim), expected), Is.LessThan(FeatureTolerance));
        Assert.That(ClipFixture.MaxRelative(shared.ToFloatArray(), plain.ToFloatArray()), Is.LessThan(SharedTolerance));
    }

    [Test]
    public void ContextGradientMatches()
    {
        using ClipWeights weights = ClipWeights.Load(ClipFixture.PathOf("weights_openai.safetensors"));
        var text = new TextTransformer(weights);
        using Tensor context = fixture.Load("prompt_context");
        using Tensor target = fixture.Load("prompt_target");
        using PromptActivations forward = text.ForwardPrompt(context, fixture.Ints("prompt_slots"), SlotCount);
        // The reference's loss is Σ features ∘ target, so d(features) = target.
        using Tensor gradient = text.BackwardPrompt(forward, target);
        float[] expected = fixture.Values("prompt_context_grad");
        Assert.That(gradient.Shape.ToArray(), Is.EqualTo(fixture.Shape("prompt_context_grad")));
        Assert.That(ClipFixture.MaxRelative(gradient.ToFloatArray(), expected), Is.LessThan(GradientTolerance));
    }

    [Test]
    public void SharedPrefixGradientMatchesPlain()
    {
        using ClipWeights weights = ClipWeights.Load(ClipFixture.PathOf("weights_openai.safetensors"));
        var text = new TextTransformer(weights);
        using Tensor context = fixture.Load("prompt_context");
        using Tensor target = fixture.Load("prompt_target");
        int[] slots = fixture.Ints("prompt_slots");
        using PromptActivations plainForward = text.ForwardPrompt(context, slots, SlotCount);
        using SharedPromptActivations sharedForward = text.ForwardPromptShared(context, slots, SlotCount);
        Assert.That(ClipFixture.MaxRelative(sharedForward.Features.ToFloatArray(), plainForward.Features.ToFloatArray()), Is.LessThan(SharedTolerance));
        using Tensor plain = text.BackwardPrompt(plainForward, target);
        using Tensor shared = text.BackwardPromptShared(sharedForward, target);
        // Same operations in another summation order (classes summed per key row instead of per context row).
        Assert.That(ClipFixture.MaxRelative(shared.ToFloatArray(), plain.ToFloatArray()), Is.LessThan(SharedTolerance));
        Assert.That(ClipFixture.MaxRelative(shared.ToFloatArray(), fixture.Values("prompt_context_grad")), Is.LessThan(GradientTolerance));
    }

    [Test]
    public void PromptOfTheWrongSizeIsRejected()
    {
        using ClipWeights weights = ClipWeights.Load(ClipFixture.PathOf("weights_openai.safetensors"));
        var text = new TextTransformer(weights);
        using Tensor context = Tensor.Zeros([11, 64]);
        Assert.Throws<TensorShapeException>(() => text.EncodePrompt(context, [1, 2, 3], SlotCount));
    }
}
