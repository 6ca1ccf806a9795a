using System.Globalization;
using ReClip.Model.Clip;
using ReClip.Model.Data.Synthetic;
using ReClip.Model.ReClip;
using ReClip.Runtime.Tensors;
using ReClip.Runtime.Weights;
using ReClip.Tests.Support;

namespace ReClip.Tests.Model;

/// <summary>
/// The shipped tiny CLIP (assets/tinyclip, trained by tools/tinyclip/train.py) loads with the sizes the demo
/// expects, and its MaskCLIP dense map of one synthetic val image, read through the spec §2.1 Query features,
/// matches tools/tinyclip/fixture.py's float64 reference (fixtures/tinyclip/dense.safetensors).
/// </summary>
[TestFixture]
public sealed class TinyClipAssetTests
{
    private const string AssetPath = "assets/tinyclip/tinyclip-synthetic.safetensors";

    /// <summary>Patch–class cosines: f32 against float64 on the same f16 weights differs by ~1e-6 per layer;
    /// 1e-4 leaves room for the 85-template average without hiding a wrong op (those give ≥1e-2).</summary>
    private const double CosineTolerance = 1e-4;

    private static readonly ClipConfig Expected = new(VisionWidth: 128, VisionLayers: 4, PatchSize: 16, VisionGrid: 8,
        TextWidth: 128, TextLayers: 3, ContextLength: 48, VocabularySize: 49408, EmbedDim: 128);

    private static string Asset => CheckoutFile.Find(AssetPath);

    [Test]
    public void TheAssetHasTheDemoSizesInHalfPrecision()
    {
        using ClipWeights weights = ClipWeights.Load(Asset);
        Assert.That(weights.Config, Is.EqualTo(Expected));
        Assert.That(weights.Layout, Is.EqualTo(WeightLayout.OpenAi));
        Assert.That(weights.Config.VisionHeads, Is.EqualTo(2));
        Assert.That(weights.Config.ImageSize, Is.EqualTo(SyntheticWorld.DefaultSize));
        Assert.That(weights.LogitScale, Is.InRange(0f, MathF.Log(100)), "clamped to ln 100 in training, as CLIP does");
        using SafetensorsFile file = SafetensorsFile.Open(Asset);
        foreach (WeightEntry entry in file.Entries)
            Assert.That(entry.DType, Is.EqualTo(entry.Name == "logit_scale" ? DType.F32 : DType.F16), entry.Name);
        Assert.That(new FileInfo(Asset).Length, Is.LessThanOrEqualTo(20_000_000));
    }

    [Test]
    public void DenseQueryLogitsMatchTheReference()
    {
        using SafetensorsFile dump = SafetensorsFile.Open(Path.Combine(AppContext.BaseDirectory, "fixtures", "tinyclip", "dense.safetensors"));
        int seed = int.Parse(dump.Metadata["seed"], CultureInfo.InvariantCulture);
        int index = int.Parse(dump.Metadata["index"], CultureInfo.InvariantCulture);
        using ClipWeights weights = ClipWeights.Load(Asset);
        using Tensor queries = QueryBank.Build(new TextTransformer(weights), ClipTokenizer.Default, SyntheticClasses.Names);
        using Tensor image = ClipImage.Normalize(SyntheticWorld.Generate(seed, index).Image);
        using DenseFeatures dense = new VisionTransformer(weights, ResidualBlock.MaskClipVisualEps).EncodeDense(image);
        Assert.That((dense.Rows, dense.Columns), Is.EqualTo((8, 8)));

        int classes = SyntheticClasses.Names.Count, embed = weights.Config.EmbedDim, patches = dense.Rows * dense.Columns;
        float[] query = queries.ToFloatArray(), features = dense.Features.ToFloatArray();
        var head = new float[classes * 8];
        for (int c = 0; c < classes; c++)
            query.AsSpan(c * embed, 8).CopyTo(head.AsSpan(c * 8));
        var logits = new float[patches * classes];
        var argmax = new int[patches];
        for (int p = 0; p < patches; p++)
            for (int c = 0; c < classes; c++)
            {
                double dot = 0;
                for (int e = 0; e < embed; e++) dot += (double)features[p * embed + e] * query[c * embed + e];
                logits[p * classes + c] = (float)dot;
                if (dot > logits[p * classes + argmax[p]]) argmax[p] = c;
            }

        using Tensor expectedHead = dump.Load("queries_head"), expectedLogits = dump.Load("logits"), expectedArgmax = dump.Load("argmax");
        Assert.That(ClipFixture.MaxAbs(head, expectedHead.ToFloatArray()), Is.LessThan(CosineTolerance), "Query features");
        Assert.That(ClipFixture.MaxAbs(logits, expectedLogits.ToFloatArray()), Is.LessThan(CosineTolerance), "patch logits");
        // fixture.py picked an image whose best class leads by ≥1e-3 at every patch, ten times the tolerance.
        Assert.That(argmax, Is.EqualTo(expectedArgmax.AsSpan<int>().ToArray()));
    }
}
