using System.Runtime.ExceptionServices;
using ReClip.Model.Data;
using ReClip.Runtime.Tensors;

namespace ReClip.Model.Training;

/// <summary>
/// One training step's augmented images, the batch's images made in parallel. Training reads its batches ahead with
/// <see cref="ReadAhead{T}"/>, so that reading and augmenting them (spec §1.3: decoding, rescale, crop, photometric
/// distortion; about a millisecond per image of the demo's world, five for a VOC image on one core) overlaps the steps
/// before them instead of stalling the device between steps, and a fast device at batch 1 is fed by several cores.
/// Each image depends only on its sample and the run's position (seed, epoch, sample), so the same bits come out
/// whichever thread makes them, and when.
/// </summary>
internal static class AugmentedBatches
{
    /// <summary>
    /// The images [n, .. <paramref name="imageShape"/>] of <paramref name="samples"/>, <paramref name="augment"/> writing
    /// sample i's into the span it is given. When images cannot be made, the first of them in the batch fails with its
    /// own error, as a loop over the batch raises it.
    /// </summary>
    public static Tensor Make(int[] samples, int[] imageShape, Action<int, Span<float>> augment)
    {
        Tensor images = Tensor.Empty([samples.Length, .. imageShape]);
        int length = (int)Shape.ElementCount(imageShape);
        var errors = new Exception?[samples.Length];
        Parallel.For(0, samples.Length, ReadAhead.Parallelism, b =>
        {
            try
            {
                augment(samples[b], images.AsSpan<float>().Slice(b * length, length));
            }
            catch (Exception e)
            {
                errors[b] = e;
            }
        });
        if (Array.Find(errors, e => e is not null) is Exception first)
        {
            images.Dispose();
            ExceptionDispatchInfo.Throw(first);
        }
        return images;
    }
}
