using ReClip.Kernels.Ops;
using ReClip.Model.Clip;
using ReClip.Model.Data;
using ReClip.Runtime.Tensors;

namespace ReClip.Model.ReClip;

/// <summary>
/// ReCLIP++'s multi-label hypothesis of an image (spec §8): square windows slid over the image at its own
/// resolution, each through CLIP's preprocessing (PIL bicubic to the model's input size) and the stock image
/// encoder (class token → ln_post → proj, LayerNorm eps 1e-5), L2-normalised, scored against the Query bank as
/// 100·f·Tᵀ; the hypothesis is the set of top-1 classes in order of first appearance (windows in raster order).
/// <para>
/// The authors run the encoder and the logits in fp16, where logits near 20–30 are spaced 1/64 apart, so two
/// classes can tie and the winner is whatever <c>torch.sort</c> returns. This runs in fp32 and a tie goes to the
/// lower class index (<see cref="Argmax"/>): a window whose two best classes are within fp16's rounding of each
/// other may get the other class here, and so may an image's hypothesis. Everywhere else the top-1 agrees.
/// </para>
/// </summary>
public sealed class Hypothesis
{
    /// <summary>
    /// Windows per encoder call. ViT-B/16's GEMMs are large at any batch (1, 8 and 32 windows per call ran at the
    /// same speed); small models gain from batching (the tiny CLIP: 1 → 32 windows per call was ~3× faster, 128
    /// another ~2×, on a loaded machine). 32 keeps ViT-B/16's activations at a few hundred MB.
    /// </summary>
    public const int DefaultBatchSize = 32;

    /// <summary>The logit scale of spec §8 (the fixed 100 of CLIP's zero-shot classifier, not the model's learnt scale).</summary>
    public const float LogitScale = 100f;

    private readonly VisionTransformer vision;
    private readonly Tensor queryBank;

    /// <param name="weights">CLIP; its stock image encoder is used (eps 1e-5 in every block, not MaskCLIP's setting).</param>
    /// <param name="queryBank">T [C, E], unit rows (<see cref="QueryBank"/>); not owned.</param>
    /// <param name="window">Window side in pixels of the original image (spec §3.1 per dataset).</param>
    /// <param name="stride">Step between window origins in pixels.</param>
    /// <param name="batchSize">Windows per encoder call.</param>
    public Hypothesis(ClipWeights weights, Tensor queryBank, int window, int stride, int batchSize = DefaultBatchSize)
    {
        ArgumentNullException.ThrowIfNull(weights);
        ArgumentNullException.ThrowIfNull(queryBank);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(window);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(stride);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(batchSize);
        if (queryBank.Rank != 2 || queryBank.Size(1) != weights.Config.EmbedDim || queryBank.DType != DType.F32)
            throw new ArgumentException($"Hypothesis: the Query bank is {Shape.Format(queryBank.Shape)} {queryBank.DType}, not [C, {weights.Config.EmbedDim}] f32", nameof(queryBank));
        vision = new VisionTransformer(weights);
        this.queryBank = queryBank;
        Window = window;
        Stride = stride;
        BatchSize = batchSize;
    }

    public int Window { get; }

    public int Stride { get; }

    public int BatchSize { get; }

    public int Classes => queryBank.Size(0);

    /// <summary>
    /// The window origins of spec §8 in raster order (y outer, x inner): y in range(0, H − w, s), x in
    /// range(0, W − w, s), the upper bounds exclusive as Python's range. So the last pixel rows and columns may
    /// stay uncovered, and an image with H ≤ w or W ≤ w has no window at all.
    /// </summary>
    public static IReadOnlyList<(int Left, int Top)> Windows(int width, int height, int window, int stride)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(window);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(stride);
        var origins = new List<(int, int)>();
        for (int y = 0; y < height - window; y += stride)
            for (int x = 0; x < width - window; x += stride)
                origins.Add((x, y));
        return origins;
    }

    /// <summary>The scores of every window of the image: logits [windows, C] and each window's top-1 class.</summary>
    public WindowPredictions Predict(RgbImage image)
    {
        ArgumentNullException.ThrowIfNull(image);
        IReadOnlyList<(int Left, int Top)> origins = Windows(image.Width, image.Height, Window, Stride);
        int classes = Classes, size = vision.Config.ImageSize;
        var logits = new float[origins.Count * classes];
        var top = new int[origins.Count];
        for (int first = 0; first < origins.Count; first += BatchSize)
        {
            int count = Math.Min(BatchSize, origins.Count - first);
            using Tensor batch = Tensor.Empty([count, 3, size, size]);
            int planes = 3 * size * size;
            unsafe
            {
                nint values = (nint)batch.Pointer<float>();
                // Cropping and resizing are independent per window; the encoder below is threaded on its own.
                Parallel.For(0, count, i =>
                {
                    (int left, int topRow) = origins[first + i];
                    RgbImage view = ClipImage.Preprocess(image.Crop(left, topRow, Window, Window), size);
                    ClipImage.NormalizeInto(view, new Span<float>((float*)values + (long)i * planes, planes));
                });
            }
            using Tensor features = vision.Encode(batch);
            L2Normalize.Forward(features, features);
            using Tensor scores = Tensor.Empty([count, classes]);
            MatMul.Multiply(features, queryBank, scores, transposeB: true, alpha: LogitScale);
            using Tensor best = Tensor.Empty([count], DType.I32);
            Argmax.Forward(scores, best);
            scores.AsSpan<float>().CopyTo(logits.AsSpan(first * classes));
            best.AsSpan<int>().CopyTo(top.AsSpan(first));
        }
        return new WindowPredictions(origins, classes, logits, top);
    }

    /// <summary>The image's hypothesis: distinct top-1 classes of its windows in order of first appearance (empty without windows).</summary>
    public int[] Of(RgbImage image) => FirstAppearance(Predict(image).Top);

    /// <summary>The distinct values in order of first appearance; every class seen once counts (no frequency threshold, spec §8).</summary>
    public static int[] FirstAppearance(ReadOnlySpan<int> classes)
    {
        var seen = new HashSet<int>();
        var order = new List<int>();
        foreach (int c in classes)
            if (seen.Add(c))
                order.Add(c);
        return [.. order];
    }
}

/// <summary>The windows of one image: origins, logits [windows, C] row-major, and the top-1 class of each.</summary>
public sealed record WindowPredictions(IReadOnlyList<(int Left, int Top)> Origins, int Classes, float[] Logits, int[] Top);
