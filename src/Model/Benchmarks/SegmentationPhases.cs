namespace ReClip.Model.Benchmarks;

/// <summary>
/// Wall milliseconds of one picture's segmentation by phase (<see cref="ReClip.Segmenter"/>'s split), each ending with its
/// result on the host: where a GPU's segmentation loses the time its kernels do not account for.
/// </summary>
/// <param name="EncodeMilliseconds">The resize and normalisation (CPU), CLIP's dense features, back to the host.</param>
/// <param name="LogitsMilliseconds">The head (the features to where it is, its logits back) and prompt denoising (CPU).</param>
/// <param name="UpsamplingMilliseconds">The two bilinear resizes, the softmax and the argmax, where the towers are, and the ids to the host.</param>
public sealed record SegmentationPhases(double EncodeMilliseconds, double LogitsMilliseconds, double UpsamplingMilliseconds);
