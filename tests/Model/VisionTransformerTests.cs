using ReClip.Model.Clip;
using ReClip.Runtime.Tensors;
using ReClip.Tests.Support;

namespace ReClip.Tests.Model;

/// <summary>The image tower against tools/reference/clip_ref.py's float64 reference, from every weight format.</summary>
[TestFixture]
public sealed class VisionTransformerTests
{
    /// <summary>
    /// Unit-norm features: an f32 forward of two small blocks differs from float64 by ~1e-6 (SGEMM and
    /// LayerNorm rounding); 1e-4 leaves room for the deeper ViT-B/16 without hiding a wrong op (those give ≥1e-2).
    /// </summary>
    private const double FeatureTolerance = 1e-4;

    /// <summary>Residual-stream activations (magnitudes up to ~10): relative to the largest element.</summary>
    private const double ActivationTolerance = 1e-5;

    private ClipFixture fixture = null!;

    [OneTimeSetUp]
    public void Open() => fixture = new ClipFixture();

    [OneTimeTearDown]
    public void Close() => fixture.Dispose();

    [TestCaseSource(typeof(ClipFixture), nameof(ClipFixture.WeightFiles))]
    public void PooledEmbeddingAndIntermediatesMatch(string file)
    {
        using ClipWeights weights = ClipWeights.Load(ClipFixture.PathOf(file));
        var vision = new VisionTransformer(weights);
        using Tensor image = fixture.Load("image24");
        var seen = new Dictionary<string, float[]>();
        using Tensor pooled = vision.Encode(image, (name, t) => seen[name] = t.ToFloatArray());
        Assert.That(seen.Keys, Is.EquivalentTo(new[] { "patch_embedding", "ln_pre", "block0", "block1" }));
        foreach ((string name, float[] values) in seen)
            Assert.That(ClipFixture.MaxRelative(values, fixture.Values("vision." + name)), Is.LessThan(ActivationTolerance), name);
        AssertFeatures(pooled.ToFloatArray(), fixture.Values("pooled"), weights.Config.EmbedDim);
    }

    [Test]
    public void BlockEpsIsAParameter()
    {
        using ClipWeights weights = ClipWeights.Load(ClipFixture.PathOf("weights_openai.safetensors"));
        using Tensor image = fixture.Load("image24");
        using Tensor pooled = new VisionTransformer(weights, ResidualBlock.MaskClipVisualEps).Encode(image);
        AssertFeatures(pooled.ToFloatArray(), fixture.Values("pooled_eps6"), weights.Config.EmbedDim);
    }

    [TestCase("weights_openai.safetensors", "dense24", "image24", 3, 3)]
    [TestCase("weights_hf.safetensors", "dense24", "image24", 3, 3)]
    [TestCase("weights_torchscript.pt", "dense_odd", "image_odd", 3, 5)]
    [TestCase("weights_open_clip.pt", "dense_odd", "image_odd", 3, 5)]
    [TestCase("weights_openai.safetensors", "dense_large", "image_large", 5, 5)]
    public void DenseMaskClipMapMatches(string file, string dump, string input, int rows, int columns)
    {
        using ClipWeights weights = ClipWeights.Load(ClipFixture.PathOf(file));
        var vision = new VisionTransformer(weights, ResidualBlock.MaskClipVisualEps);
        using Tensor image = fixture.Load(input);
        using DenseFeatures dense = vision.EncodeDense(image);
        Assert.That(dense.Rows, Is.EqualTo(rows));
        Assert.That(dense.Columns, Is.EqualTo(columns));
        Assert.That(dense.Features.Shape.ToArray(), Is.EqualTo(fixture.Shape(dump)));
        Assert.That(ClipFixture.MaxAbs(dense.Features.ToFloatArray(), fixture.Values(dump)), Is.LessThan(FeatureTolerance));
        Assert.That(dense.PositionalGrid.Shape.ToArray(), Is.EqualTo(new[] { rows * columns, weights.Config.VisionWidth }));
        Assert.That(ClipFixture.MaxAbs(dense.PositionalGrid.ToFloatArray(), fixture.Values(dump + ".grid")), Is.LessThan(1e-5),
            "bicubic resize of f16 values in f32");
    }

    [Test]
    public void DenseMapWithBFloat16LinearsOnAGpuStaysNearFloat32()
    {
        Requires.CudaDevice();
        if (ReClip.Runtime.Cuda.CudaDriver.Describe(0).ComputeMajor < 8)
            Assert.Ignore("cuda:0 has no bfloat16 tensor cores (compute capability below 8.0)");
        using ClipWeights weights = ClipWeights.Load(ClipFixture.PathOf("weights_openai.safetensors"));
        using ClipWeights half = weights.ToDevice(Device.Cuda(), visionLinearsInBFloat16: true);
        using Tensor image = fixture.Load("image_large"), onDevice = image.ToDevice(Device.Cuda());
        using DenseFeatures exact = new VisionTransformer(weights, ResidualBlock.MaskClipVisualEps).EncodeDense(image);
        using DenseFeatures rounded = new VisionTransformer(half, ResidualBlock.MaskClipVisualEps).EncodeDense(onDevice);
        // Every GEMM input, attention operand and probability rounded to bfloat16 (2⁻⁹ relative) through two blocks of
        // unit-norm features: 1.6e-3 measured for the same flow on the CPU, which leaves the probabilities unrounded;
        // a wrong tensor or kernel gives O(0.1).
        Assert.That(ClipFixture.MaxAbs(rounded.Features.ToFloatArray(), exact.Features.ToFloatArray()), Is.LessThan(3e-2));
    }

    [Test]
    public void ReplacementClassTokenIsUsed()
    {
        using ClipWeights weights = ClipWeights.Load(ClipFixture.PathOf("weights_openai.safetensors"));
        var vision = new VisionTransformer(weights, ResidualBlock.MaskClipVisualEps);
        using Tensor image = fixture.Load("image24");
        float[] token = fixture.Values("class_token");
        using DenseFeatures stock = vision.EncodeDense(image);
        weights.ReplaceClassEmbedding(token);
        using DenseFeatures replaced = vision.EncodeDense(image);
        using ClipWeights copied = weights.ToDevice(Device.Cpu);
        using DenseFeatures fromCopy = new VisionTransformer(copied, ResidualBlock.MaskClipVisualEps).EncodeDense(image);
        float[] expected = fixture.Values("dense24_class_token");
        Assert.Multiple(() =>
        {
            Assert.That(ClipFixture.MaxAbs(replaced.Features.ToFloatArray(), expected), Is.LessThan(FeatureTolerance));
            Assert.That(ClipFixture.MaxAbs(stock.Features.ToFloatArray(), expected), Is.GreaterThan(1e-3), "the class token must matter");
            Assert.That(fromCopy.Features.ToFloatArray(), Is.EqualTo(replaced.Features.ToFloatArray()), "a copy keeps the replacement");
            Assert.That(copied.ReplacedClassEmbedding, Is.EqualTo(token));
        });
    }

    /// <summary>
    /// A class token put in place of CLIP's on weights already on a GPU (as a head's checkpoint puts its own there) reaches the
    /// dense pass there: the PyTorch reference's features with that token, within the same tolerance as the CPU's.
    /// </summary>
    [Test]
    public void ReplacementClassTokenOnAGpuIsUsed()
    {
        Requires.CudaDevice();
        using ClipWeights weights = ClipWeights.Load(ClipFixture.PathOf("weights_openai.safetensors"));
        using ClipWeights onGpu = weights.ToDevice(Device.Cuda());
        onGpu.ReplaceClassEmbedding(fixture.Values("class_token"));
        using Tensor image = fixture.Load("image24"), onDevice = image.ToDevice(Device.Cuda());
        using DenseFeatures dense = new VisionTransformer(onGpu, ResidualBlock.MaskClipVisualEps).EncodeDense(onDevice);
        Assert.Multiple(() =>
        {
            Assert.That(onGpu.ClassEmbedding.Device, Is.EqualTo(Device.Cuda()));
            Assert.That(ClipFixture.MaxAbs(dense.Features.ToFloatArray(), fixture.Values("dense24_class_token")), Is.LessThan(FeatureTolerance));
        });
    }

    [Test]
    public void ReplacementClassTokenMustFitTheImageTower()
    {
        using ClipWeights weights = ClipWeights.Load(ClipFixture.PathOf("weights_openai.safetensors"));
        var error = Assert.Throws<ArgumentException>(() => weights.ReplaceClassEmbedding(new float[weights.Config.VisionWidth + 1]));
        Assert.Multiple(() =>
        {
            Assert.That(error!.Message, Does.Contain($"width {weights.Config.VisionWidth}"));
            Assert.That(weights.ReplacedClassEmbedding, Is.Null);
        });
    }

    private static void AssertFeatures(float[] actual, float[] expected, int width) =>
        Assert.That(ClipFixture.MaxAbs(ClipFixture.NormalizeRows(actual, width), ClipFixture.NormalizeRows(expected, width)),
            Is.LessThan(FeatureTolerance));
}
