using ReClip.Model.Clip;
using ReClip.Model.Data;
using ReClip.Model.Data.Datasets;
using ReClip.Model.Eval;
using ReClip.Model.ReClip;
using ReClip.Runtime.Tensors;
using ReClip.Runtime.Weights;
using ReClip.Tests.Support;

namespace ReClip.Tests.Model;

/// <summary>
/// Whole-image inference (spec §10 steps 1–5) against tools/reference/segment_ref.py (MaskCLIP baseline on the tiny
/// CLIP, a 37×50 image padded to a 5×7 grid, prompt denoising, two bilinear upsamplings to 45×61), the ReCLIP++ path
/// through the head's inference, and the sliding-window option.
/// </summary>
[TestFixture]
public sealed class SegmenterTests
{
    /// <summary>
    /// O = F·Tᵀ, cosines of unit rows, f32 against the float64 reference through the tiny ViT (normalisation, two blocks,
    /// LayerNorms, projection, a 64-term dot): measured 2.1e-7; 1e-6 leaves room for other CPUs' summation orders.
    /// </summary>
    private const float LogitTolerance = 1e-6f;

    /// <summary>softmax(10·O) of those logits: ×10 on the logit error, probabilities ≤ 1.</summary>
    private const float MaximumTolerance = 1e-5f;

    /// <summary>Bilinear weights sum to 1, so the upsampled logits keep the logits' error (and −100 exactly where removed).</summary>
    private const float UpsampledTolerance = 1e-6f;

    /// <summary>A pixel whose two best classes are closer than twice the logit error may go either way.</summary>
    private const float NearTie = 2 * LogitTolerance;

    private ClipWeights weights = null!;
    private SafetensorsFile dump = null!;

    [OneTimeSetUp]
    public void Open()
    {
        weights = ClipWeights.Load(ClipFixture.PathOf("weights_openai.safetensors"));
        dump = SafetensorsFile.Open(Path.Combine(AppContext.BaseDirectory, "fixtures", "reclip", "segment.safetensors"));
    }

    [OneTimeTearDown]
    public void Close()
    {
        dump.Dispose();
        weights.Dispose();
    }

    private Tensor Load(string name)
    {
        using Tensor view = dump.Load(name);
        return view.Clone();
    }

    private float[] Values(string name)
    {
        using Tensor view = dump.Load(name);
        return view.ToFloatArray();
    }

    private int[] Ints(string name)
    {
        using Tensor view = dump.Load(name);
        return [.. view.AsSpan<int>()];
    }

    /// <summary>The dumped image; a test scale equal to its short side makes the keep-ratio resize the identity.</summary>
    private (RgbImage Image, DatasetPreset Preset) Image()
    {
        using Tensor bytes = dump.Load("image");
        int height = bytes.Size(0), width = bytes.Size(1);
        var image = new RgbImage(width, height);
        bytes.AsSpan<byte>().CopyTo(image.Pixels);
        return (image, DatasetPreset.Folder with { TestScaleShort = Math.Min(width, height), CropSize = 24 });
    }

    private VisionTransformer Vision() => new(weights, ResidualBlock.MaskClipVisualEps);

    [Test]
    public void MaskClipMatchesPyTorch()
    {
        (RgbImage image, DatasetPreset preset) = Image();
        using Tensor query = Load("query");
        float threshold = Values("threshold")[0];
        using var segmenter = new Segmenter(Vision(), query, preset) { DenoisingThreshold = threshold };
        using var raw = new Segmenter(Vision(), query, preset) { DenoisingThreshold = null };
        using FrozenFeatures frozen = segmenter.Encode(image);
        using Tensor logits = raw.Logits(frozen);
        float[] maxima = PromptDenoising.ClassMaxima(logits);
        using Tensor filtered = segmenter.Logits(frozen);
        using Tensor upsampled = Upsampling.Upsample(filtered, frozen.ResizedHeight, frozen.ResizedWidth, 45, 61);
        using Tensor prediction = segmenter.Predict(frozen, 61, 45);
        float[] expectedUpsampled = Values("upsampled");
        Assert.Multiple(() =>
        {
            Assert.That((frozen.ResizedWidth, frozen.ResizedHeight, frozen.Windows.Count), Is.EqualTo((50, 37, 1)));
            Assert.That((frozen.Windows[0].Features.Rows, frozen.Windows[0].Features.Columns), Is.EqualTo((5, 7)), "37×50 padded to 40×56");
            Assert.That(ClipFixture.MaxAbs(logits.AsSpan<float>(), Values("logits")), Is.LessThan(LogitTolerance));
            Assert.That(maxima, Is.EqualTo(Values("maxima")).Within(MaximumTolerance));
            Assert.That(ClipFixture.MaxAbs(upsampled.AsSpan<float>(), expectedUpsampled), Is.LessThan(UpsampledTolerance));
            Assert.That(prediction.Shape.ToArray(), Is.EqualTo(new[] { 45, 61 }));
        });
        AssertSameExceptNearTies(prediction.AsSpan<int>(), Ints("prediction"), upsampled);
    }

    /// <summary>
    /// With the towers on a GPU the upsampling, softmax and argmax run there too (<see cref="Segmenter.Upsample"/>): the
    /// ids that come back are PyTorch's but where the two best classes are closer than the CPU's logit error allows.
    /// </summary>
    [Test]
    public void OnAGpuTheIdsAreStillPyTorchs()
    {
        Requires.CudaDevice();
        (RgbImage image, DatasetPreset preset) = Image();
        using Tensor query = Load("query");
        using ClipWeights onDevice = weights.ToDevice(Device.Cuda());
        using var segmenter = new Segmenter(new VisionTransformer(onDevice, ResidualBlock.MaskClipVisualEps), query, preset)
        {
            DenoisingThreshold = Values("threshold")[0],
        };
        using FrozenFeatures frozen = segmenter.Encode(image);
        using Tensor prediction = segmenter.Predict(frozen, 61, 45);
        using Tensor filtered = segmenter.Logits(frozen);
        using Tensor upsampled = Upsampling.Upsample(filtered, frozen.ResizedHeight, frozen.ResizedWidth, 45, 61);
        Assert.That((prediction.Device, prediction.DType, prediction.Shape.ToArray()), Is.EqualTo((Device.Cpu, DType.I32, new[] { 45, 61 })));
        AssertSameExceptNearTies(prediction.AsSpan<int>(), Ints("prediction"), upsampled);
    }

    [Test]
    public void PromptDenoisingRemovesClassesOnlyWhenOn()
    {
        (RgbImage image, DatasetPreset preset) = Image();
        using Tensor query = Load("query");
        int[] kept = Ints("kept");
        using var on = new Segmenter(Vision(), query, preset) { DenoisingThreshold = Values("threshold")[0] };
        using var off = new Segmenter(Vision(), query, preset) { DenoisingThreshold = null };
        using FrozenFeatures frozen = on.Encode(image);
        using Tensor withFilter = on.Predict(frozen, 61, 45);
        using Tensor without = off.Predict(frozen, 61, 45);
        using Tensor unfilteredLogits = off.Logits(frozen);
        using Tensor upsampled = Upsampling.Upsample(unfilteredLogits, 37, 50, 45, 61);
        int[] expectedWithout = Ints("prediction_nopd");
        bool[] removed = [.. kept.Select(k => k == 0)];
        Assert.Multiple(() =>
        {
            Assert.That(kept, Has.Some.EqualTo(0).And.Some.EqualTo(1), "the dumped threshold removes some classes and keeps others");
            Assert.That(withFilter.AsSpan<int>().ToArray(), Has.None.Matches<int>(c => removed[c]), "no removed class is predicted");
            Assert.That(expectedWithout, Has.Some.Matches<int>(c => removed[c]), "without the filter a removed class wins somewhere");
        });
        AssertSameExceptNearTies(without.AsSpan<int>(), expectedWithout, upsampled);
    }

    [Test]
    public void DefaultThresholdIsThePresets()
    {
        using Tensor query = Load("query");
        using var segmenter = new Segmenter(Vision(), query, DatasetPreset.Context);
        Assert.That(segmenter.DenoisingThreshold, Is.EqualTo(0.85f));
    }

    [Test]
    public void ReClipPathIsTheHeadsInference()
    {
        (RgbImage image, DatasetPreset preset) = Image();
        using var step = new ReClipStepFixture();
        using Tensor stepQuery = step.Load("query");
        int[] slots = ReferencePrompt.SlotIds(ReClipStepFixture.NameTokens, weights.Config.EndToken);
        using var head = new ReClipHead(new TextTransformer(weights), stepQuery, slots, weights.Config.VisionWidth, seed: 3);
        using var segmenter = new Segmenter(Vision(), head, preset) { DenoisingThreshold = null };
        using FrozenFeatures frozen = segmenter.Encode(image);
        DenseFeatures features = frozen.Windows[0].Features;
        using Tensor reference = head.Reference();
        using Tensor expected = head.Infer(features.Features, features.PositionalGrid, features.Rows, features.Columns, reference);
        using Tensor logits = segmenter.Logits(frozen);
        using Tensor prediction = segmenter.Predict(frozen, 61, 45);
        using Tensor expectedPrediction = Upsampling.Predict(expected, 37, 50, 45, 61);
        Assert.Multiple(() =>
        {
            Assert.That(segmenter.IsReClip && segmenter.Classes == ReClipStepFixture.NameTokens.Length);
            Assert.That(logits.AsSpan<float>().ToArray(), Is.EqualTo(expected.AsSpan<float>().ToArray()));
            Assert.That(prediction.AsSpan<int>().ToArray(), Is.EqualTo(expectedPrediction.AsSpan<int>().ToArray()));
        });
    }

    [Test]
    public void SlideWithOneWindowIsWholeImage()
    {
        (RgbImage image, DatasetPreset preset) = Image();
        using Tensor query = Load("query");
        using var whole = new Segmenter(Vision(), query, preset) { DenoisingThreshold = null };
        using var slide = new Segmenter(Vision(), query, preset with { CropSize = 64 }) { DenoisingThreshold = null, Slide = true };
        using Tensor expected = whole.Segment(image);
        using Tensor actual = slide.Segment(image);
        Assert.That(actual.AsSpan<int>().ToArray(), Is.EqualTo(expected.AsSpan<int>().ToArray()));
    }

    [Test]
    public void SlideAveragesOverlappingWindows()
    {
        (RgbImage image, DatasetPreset preset) = Image();
        using Tensor query = Load("query");
        using var slide = new Segmenter(Vision(), query, preset) { DenoisingThreshold = null, Slide = true };
        using FrozenFeatures frozen = slide.Encode(image);
        using Tensor logits = slide.Logits(frozen);
        // Crop 24, stride 16 on 50×37: columns at 0, 16, 26 and rows at 0, 13 (the last ones moved back to the edge).
        Assert.That(frozen.Windows.Select(w => (w.X, w.Y, w.Width, w.Height)),
            Is.EqualTo(new[] { (0, 0, 24, 24), (16, 0, 24, 24), (26, 0, 24, 24), (0, 13, 24, 24), (16, 13, 24, 24), (26, 13, 24, 24) }));
        // Pixel (0, 0) lies in the first window only: its logits are that window's, resized to the crop.
        using Tensor first = slide.GridLogits(frozen.Windows[0].Features);
        using Tensor grid = first.Reshape(query.Size(0), 3, 3);
        using Tensor crop = Tensor.Empty([query.Size(0), 24, 24]);
        ReClip.Kernels.Ops.BilinearResize.Forward(grid, crop);
        // Pixel (20, 5) lies in windows 0 and 1: the mean of both.
        using Tensor second = slide.GridLogits(frozen.Windows[1].Features);
        using Tensor secondGrid = second.Reshape(query.Size(0), 3, 3);
        using Tensor secondCrop = Tensor.Empty([query.Size(0), 24, 24]);
        ReClip.Kernels.Ops.BilinearResize.Forward(secondGrid, secondCrop);
        float[] all = logits.ToFloatArray(), a = crop.ToFloatArray(), b = secondCrop.ToFloatArray();
        Assert.Multiple(() =>
        {
            Assert.That(logits.Shape.ToArray(), Is.EqualTo(new[] { query.Size(0), 37, 50 }));
            Assert.That(all[0], Is.EqualTo(a[0]));
            Assert.That(all[5 * 50 + 20], Is.EqualTo((a[5 * 24 + 20] + b[5 * 24 + 4]) / 2).Within(1e-6f));
        });
    }

    [Test]
    public void QueryOfAnotherWidthIsRefused()
    {
        using Tensor query = Tensor.Zeros([3, weights.Config.EmbedDim + 1]);
        Assert.Throws<TensorShapeException>(() => _ = new Segmenter(Vision(), query, DatasetPreset.Folder));
    }

    /// <summary>Predictions equal the reference's except at pixels whose two best logits are within <see cref="NearTie"/>.</summary>
    private static void AssertSameExceptNearTies(ReadOnlySpan<int> actual, int[] expected, Tensor upsampled)
    {
        ReadOnlySpan<float> values = upsampled.AsSpan<float>();
        int classes = upsampled.Size(0), plane = expected.Length, nearTies = 0, differing = 0;
        for (int p = 0; p < plane; p++)
        {
            float best = float.NegativeInfinity, second = float.NegativeInfinity;
            for (int c = 0; c < classes; c++)
            {
                float v = values[c * plane + p];
                if (v > best) (best, second) = (v, best);
                else if (v > second) second = v;
            }
            bool nearTie = best - second < NearTie;
            if (nearTie) nearTies++;
            if (actual[p] != expected[p])
            {
                differing++;
                Assert.That(nearTie, $"pixel {p}: {actual[p]} vs {expected[p]} with margin {best - second}");
            }
        }
        TestContext.Out.WriteLine($"{differing} differing pixels, {nearTies} near ties of {plane}");
        Assert.That(differing, Is.LessThanOrEqualTo(nearTies));
    }
}
