using System.Diagnostics;
using ReClip.Model.Clip;
using ReClip.Model.Data;
using ReClip.Model.Data.Datasets;
using ReClip.Model.ReClip;
using ReClip.Runtime.Tensors;

namespace ReClip.Model.Benchmarks;

/// <summary>
/// A trained head's inference on one size × size picture, as `reclip segment` and `eval` run it: the Reference prompt
/// once, then per picture the resize, CLIP's dense features, the head, prompt denoising, upsampling and argmax, the head
/// where the towers are.
/// </summary>
internal sealed class SegmentationWorkload : IDisposable
{
    private readonly ReClipHead head;
    private readonly Segmenter segmenter;
    private readonly RgbImage picture;

    public SegmentationWorkload(ClipWeights weights, int size, int classes)
    {
        ClipConfig config = weights.Config;
        var vision = new VisionTransformer(weights, ResidualBlock.MaskClipVisualEps);
        using (Tensor query = RandomInputs.UnitRows(classes, config.EmbedDim, 5))
            head = new ReClipHead(new TextTransformer(weights), query, RandomInputs.OneTokenSlots(classes, config.EndToken), config.VisionWidth, 5)
                .MoveTo(vision.Device);
        try
        {
            segmenter = new Segmenter(vision, head, DatasetPreset.Folder with { TestScaleShort = size, CropSize = size });
        }
        catch
        {
            head.Dispose();
            throw;
        }
        picture = RandomInputs.Picture(size, size);
    }

    public void Run() => segmenter.Segment(picture).Dispose();

    /// <summary><see cref="Run"/>'s three phases timed apart, averaged over <paramref name="calls"/> after a warm-up call.</summary>
    public SegmentationPhases Phases(int calls)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(calls);
        double encode = 0, logits = 0, upsampling = 0;
        for (int call = -1; call < calls; call++)
        {
            long start = Stopwatch.GetTimestamp();
            using FrozenFeatures frozen = segmenter.Encode(picture);
            long encoded = Stopwatch.GetTimestamp();
            using Tensor scores = segmenter.Logits(frozen);
            long scored = Stopwatch.GetTimestamp();
            using Tensor ids = segmenter.Upsample(scores, frozen, picture.Width, picture.Height);
            if (call < 0) continue;
            encode += Stopwatch.GetElapsedTime(start, encoded).TotalMilliseconds;
            logits += Stopwatch.GetElapsedTime(encoded, scored).TotalMilliseconds;
            upsampling += Stopwatch.GetElapsedTime(scored).TotalMilliseconds;
        }
        return new SegmentationPhases(encode / calls, logits / calls, upsampling / calls);
    }

    public void Dispose()
    {
        segmenter.Dispose();
        head.Dispose();
    }
}
