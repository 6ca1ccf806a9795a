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

    public void Dispose()
    {
        segmenter.Dispose();
        head.Dispose();
    }
}
