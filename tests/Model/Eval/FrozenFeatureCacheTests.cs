using ReClip.Model.Clip;
using ReClip.Model.Data;
using ReClip.Model.Data.Datasets;
using ReClip.Model.Eval;
using ReClip.Model.ReClip;
using ReClip.Runtime.Tensors;
using ReClip.Tests.Model;

namespace ReClip.Tests.Model.Eval;

/// <summary>The in-memory cache of frozen features: entries by image, one positional grid per grid size, settings checked.</summary>
[TestFixture]
public sealed class FrozenFeatureCacheTests
{
    [Test]
    public void ImagesOfOneGridSizeShareOnePositionalGrid()
    {
        using ClipWeights weights = ClipWeights.Load(ClipFixture.PathOf("weights_openai.safetensors"));
        using Tensor query = Tensor.Zeros([2, weights.Config.EmbedDim]);
        DatasetPreset preset = DatasetPreset.Folder with { TestScaleShort = 24 };
        using var segmenter = new Segmenter(new VisionTransformer(weights, ResidualBlock.MaskClipVisualEps), query, preset);
        var first = new RgbImage(32, 24);
        var second = new RgbImage(32, 24);
        second.Pixels.AsSpan().Fill(200);
        using FrozenFeatures fresh = segmenter.Encode(second);
        using var cache = new FrozenFeatureCache();
        FrozenFeatures a = cache.GetOrAdd(segmenter, "a.png", () => segmenter.Encode(first));
        FrozenFeatures b = cache.GetOrAdd(segmenter, "b.png", () => segmenter.Encode(second));
        FrozenFeatures again = cache.GetOrAdd(segmenter, "a.png", () => throw new AssertionException("encoded twice"));
        DenseFeatures shared = b.Windows[0].Features;
        Assert.Multiple(() =>
        {
            Assert.That(cache.Count, Is.EqualTo(2));
            Assert.That(cache.Contains("b.png") && !cache.Contains("c.png"));
            Assert.That(again, Is.SameAs(a));
            Assert.That(shared.PositionalGrid.Storage, Is.SameAs(a.Windows[0].Features.PositionalGrid.Storage));
            Assert.That(shared.Features.AsSpan<float>().ToArray(), Is.EqualTo(fresh.Windows[0].Features.Features.AsSpan<float>().ToArray()));
            Assert.That(shared.PositionalGrid.AsSpan<float>().ToArray(), Is.EqualTo(fresh.Windows[0].Features.PositionalGrid.AsSpan<float>().ToArray()));
            Assert.That((b.ResizedWidth, b.ResizedHeight, b.ImageWidth, b.ImageHeight), Is.EqualTo((32, 24, 32, 24)));
        });
    }
}
