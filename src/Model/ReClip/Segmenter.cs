using ReClip.Kernels.Ops;
using ReClip.Model.Clip;
using ReClip.Model.Data;
using ReClip.Model.Data.Datasets;
using ReClip.Model.Eval;
using ReClip.Runtime.Tensors;

namespace ReClip.Model.ReClip;

/// <summary>
/// Inference of spec §10 for one image: the keep-ratio resize to the preset's test scale (§1.4), CLIP's dense
/// features (the ViT pads to a multiple of the patch), the segmentation logits O [1, C, h, w] — MaskCLIP's
/// Q = F·Tᵀ or ReCLIP++'s decoder output with BatchNorm on running statistics — the prompt-denoising filter on
/// the patch grid, bilinear to the resized size and again to the label size, argmax.
/// <para>
/// Split in two so the frozen part can be cached: <see cref="Encode"/> (resize, CLIP) and <see cref="Predict"/>
/// (head, filter, upsampling). <see cref="Slide"/> switches to mmseg's slide inference (crops of the preset's crop
/// size every two thirds of it, logits resized to each crop and averaged where crops overlap); the paper's
/// protocol is whole-image, the default.
/// </para>
/// </summary>
public sealed class Segmenter : IDisposable
{
    private readonly VisionTransformer vision;
    private readonly Tensor query;
    private readonly ReClipHead? head;
    private readonly Tensor? reference;

    /// <summary>The MaskCLIP baseline: O = F·Tᵀ with the Query bank <paramref name="query"/> [C, E] (not owned).</summary>
    public Segmenter(VisionTransformer vision, Tensor query, DatasetPreset preset)
    {
        ArgumentNullException.ThrowIfNull(vision);
        ArgumentNullException.ThrowIfNull(query);
        ArgumentNullException.ThrowIfNull(preset);
        Shape.Require("Segmenter query bank", [query.Size(0), vision.Config.EmbedDim], query.Shape);
        this.vision = vision;
        this.query = query;
        Preset = preset;
        DenoisingThreshold = (float)preset.PromptDenoisingThreshold;
    }

    /// <summary>
    /// ReCLIP++: O from <paramref name="head"/> (not owned) in inference mode. The head's reference features are
    /// computed here once (spec §2.2: they depend on the context vectors only), so a head that trains on must get a
    /// new segmenter. The image tower must run with the class token the head was trained with (<see cref="HeadCheckpoint.ClassToken"/>).
    /// </summary>
    public Segmenter(VisionTransformer vision, ReClipHead head, DatasetPreset preset)
        : this(vision, (head ?? throw new ArgumentNullException(nameof(head))).Query, preset)
    {
        this.head = head;
        reference = head.Reference();
    }

    /// <summary>Test scale (spec §1.4), crop size (slide inference) and the default prompt-denoising threshold.</summary>
    public DatasetPreset Preset { get; }

    /// <summary>TEST.PD of spec §10 step 3 (the preset's by default); null turns the filter off, as training-time validation does (§9).</summary>
    public float? DenoisingThreshold { get; init; }

    /// <summary>mmseg's slide inference instead of the whole image.</summary>
    public bool Slide { get; init; }

    public int Classes => query.Size(0);

    public bool IsReClip => head is not null;

    /// <summary>What <see cref="Encode"/> depends on besides the image; frozen features computed under other settings do not fit.</summary>
    public (int ScaleLong, int ScaleShort, bool Slide, int Crop) EncodingSettings =>
        (Preset.TestScaleLong, Preset.TestScaleShort, Slide, Slide ? Preset.CropSize : 0);

    /// <summary>Prediction ids [H, W] (i32) for an image at its own size.</summary>
    public Tensor Segment(RgbImage image)
    {
        using FrozenFeatures frozen = Encode(image);
        return Predict(frozen, image.Width, image.Height);
    }

    /// <summary>The frozen part (spec §10 step 1): the resized image's dense features, per window.</summary>
    public FrozenFeatures Encode(RgbImage image)
    {
        ArgumentNullException.ThrowIfNull(image);
        RgbImage resized = EvaluationPreprocessing.Resize(image, Preset);
        IReadOnlyList<(int X, int Y, int Width, int Height)> boxes = Slide
            ? SlidingWindows.Of(resized.Width, resized.Height, Preset.CropSize, SlidingWindows.DefaultStride(Preset.CropSize))
            : [(0, 0, resized.Width, resized.Height)];
        var windows = new List<FeatureWindow>(boxes.Count);
        try
        {
            foreach ((int x, int y, int width, int height) in boxes)
            {
                RgbImage crop = width == resized.Width && height == resized.Height ? resized : Crop(resized, x, y, width, height);
                using Tensor input = DatasetNormalization.Normalize(crop);
                windows.Add(new FeatureWindow(vision.EncodeDense(input), x, y, width, height));
            }
        }
        catch
        {
            foreach (FeatureWindow window in windows) window.Features.Dispose();
            throw;
        }
        return new FrozenFeatures(windows, resized.Width, resized.Height, image.Width, image.Height);
    }

    /// <summary>Spec §10 steps 2–5: prediction ids [H, W] (i32) at the label size.</summary>
    public Tensor Predict(FrozenFeatures frozen, int labelWidth, int labelHeight)
    {
        using Tensor logits = Logits(frozen);
        return Upsample(logits, frozen, labelWidth, labelHeight);
    }

    /// <summary>
    /// Spec §10 steps 4–5 on <see cref="Logits"/>' result: prediction ids [H, W] (i32, host memory) at the label size. With
    /// the towers on a GPU the two resizes, the softmax and the argmax run there: the label-size logits ([C, H, W], some
    /// 12 MB for a VOC image) are made and read where they are, and only the ids come back, where the CPU took about
    /// 25 ms a VOC image on two cores.
    /// </summary>
    public Tensor Upsample(Tensor logits, FrozenFeatures frozen, int labelWidth, int labelHeight)
    {
        ArgumentNullException.ThrowIfNull(logits);
        ArgumentNullException.ThrowIfNull(frozen);
        if (vision.Device.IsCpu)
            return Upsampling.Predict(logits, frozen.ResizedHeight, frozen.ResizedWidth, labelHeight, labelWidth);
        using Tensor onDevice = DeviceTransfer.Onto(logits, vision.Device);
        using Tensor ids = Upsampling.Predict(onDevice, frozen.ResizedHeight, frozen.ResizedWidth, labelHeight, labelWidth);
        return ids.ToDevice(Device.Cpu);
    }

    /// <summary>
    /// The filtered logits: whole image, O [1, C, h, w] on the patch grid; several windows, their logits resized to
    /// their crops and averaged on the resized image [C, H', W'] (no single patch grid spans it, so the filter acts there).
    /// </summary>
    public Tensor Logits(FrozenFeatures frozen)
    {
        ArgumentNullException.ThrowIfNull(frozen);
        if (frozen.Windows.Count == 0)
            throw new ArgumentException("Segmenter: frozen features without a window", nameof(frozen));
        // One window over the whole resized image is whole-image inference, whichever way it was encoded.
        bool whole = frozen.Windows is [{ X: 0, Y: 0 } only] && only.Width == frozen.ResizedWidth && only.Height == frozen.ResizedHeight;
        Tensor logits = whole ? GridLogits(frozen.Windows[0].Features) : Averaged(frozen);
        try
        {
            if (DenoisingThreshold is float threshold)
                PromptDenoising.Apply(logits, threshold);
            return logits;
        }
        catch
        {
            logits.Dispose();
            throw;
        }
    }

    /// <summary>O [1, C, h, w] of one window (spec §10 step 2).</summary>
    public Tensor GridLogits(DenseFeatures features)
    {
        ArgumentNullException.ThrowIfNull(features);
        if (head is not null && reference is not null)
            return head.Infer(features.Features, features.PositionalGrid, features.Rows, features.Columns, reference);
        int patches = features.Rows * features.Columns, classes = Classes, embed = query.Size(1);
        if (features.Features.Rank != 3 || features.Features.Size(0) != 1 || features.Features.Size(1) != patches || features.Features.Size(2) != embed)
            throw new TensorShapeException($"Segmenter: features {Shape.Format(features.Features.Shape)} are not [1, {patches}, {embed}]");
        // Q = F·Tᵀ [N, C] (spec §4.5), laid out classes first as the decoder's output.
        using Tensor flat = features.Features.Reshape(patches, embed);
        using Tensor q = Tensor.Empty([patches, classes]);
        MatMul.Multiply(flat, query, q, transposeB: true);
        Tensor o = Tensor.Empty([1, classes, features.Rows, features.Columns]);
        using (Tensor rows = q.Reshape(1, patches, classes), planes = o.Reshape(1, classes, patches))
            PlaneTranspose.Forward(rows, planes);
        return o;
    }

    /// <summary>mmseg's slide merge: each window's logits bilinear to its crop size, summed, divided by the overlap count.</summary>
    private Tensor Averaged(FrozenFeatures frozen)
    {
        int classes = Classes, width = frozen.ResizedWidth, height = frozen.ResizedHeight, plane = width * height;
        Tensor sum = Tensor.Zeros([classes, height, width]);
        try
        {
            var count = new int[plane];
            Span<float> total = sum.AsSpan<float>();
            foreach (FeatureWindow window in frozen.Windows)
            {
                using Tensor o = GridLogits(window.Features);
                using Tensor grid = o.Reshape(classes, window.Features.Rows, window.Features.Columns);
                using Tensor crop = Tensor.Empty([classes, window.Height, window.Width]);
                BilinearResize.Forward(grid, crop);
                ReadOnlySpan<float> values = crop.AsSpan<float>();
                for (int y = 0; y < window.Height; y++)
                {
                    int row = (window.Y + y) * width + window.X;
                    for (int x = 0; x < window.Width; x++) count[row + x]++;
                    for (int c = 0; c < classes; c++)
                        System.Numerics.Tensors.TensorPrimitives.Add(total.Slice(c * plane + row, window.Width),
                            values.Slice((c * window.Height + y) * window.Width, window.Width), total.Slice(c * plane + row, window.Width));
                }
            }
            for (int c = 0; c < classes; c++)
                for (int i = 0; i < plane; i++)
                    total[c * plane + i] /= count[i];
            return sum;
        }
        catch
        {
            sum.Dispose();
            throw;
        }
    }

    private static RgbImage Crop(RgbImage image, int x, int y, int width, int height)
    {
        var crop = new RgbImage(width, height);
        for (int row = 0; row < height; row++)
            image.Pixels.AsSpan(((y + row) * image.Width + x) * 3, width * 3).CopyTo(crop.Pixels.AsSpan(row * width * 3, width * 3));
        return crop;
    }

    public void Dispose() => reference?.Dispose();
}
