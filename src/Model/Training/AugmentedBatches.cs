using System.Runtime.ExceptionServices;
using ReClip.Model.Data;
using ReClip.Runtime.Tensors;

namespace ReClip.Model.Training;

/// <summary>
/// The augmented images of training steps, made ahead on the thread pool, so that reading and augmenting batches
/// (spec §1.3: decoding, rescale, crop, photometric distortion; about a millisecond per image of the demo's world, five
/// for a VOC image on one core) overlaps the steps before them instead of stalling the device between steps. Up to
/// <see cref="Depth"/> steps are made ahead at once (besides a step at hand that was not), each batch's images in
/// parallel, so a fast device at batch 1 is fed by several cores. Each image depends only on its sample and the run's
/// position (seed, epoch, sample), so the same bits come out whichever thread makes them, and when.
/// </summary>
/// <param name="augment">Writes sample <c>i</c>'s augmented [3, Crop, Crop] image into the span it is given.</param>
/// <param name="imageShape">[3, Crop, Crop].</param>
/// <param name="depth">How many steps may be made ahead at once.</param>
internal sealed class AugmentedBatches(Action<int, Span<float>> augment, int[] imageShape, int depth) : IDisposable
{
    private readonly SortedDictionary<int, Task<Tensor>> ahead = [];

    public int Depth { get; } = depth >= 1 ? depth : throw new ArgumentOutOfRangeException(nameof(depth), depth, "at least one step ahead");

    /// <summary>
    /// The images [n, 3, Crop, Crop] of <paramref name="samples"/> for <paramref name="step"/>: those made ahead for it,
    /// else made now. An image that could not be read fails here, at the step that needs it. Images made ahead for
    /// earlier steps are dropped.
    /// </summary>
    public Tensor Take(int step, int[] samples)
    {
        while (ahead.Count > 0 && ahead.First().Key < step)
            Drop(ahead.First().Key);
        return ahead.Remove(step, out Task<Tensor>? made) ? made.GetAwaiter().GetResult() : Make(samples);
    }

    /// <summary>
    /// Starts making the images of <paramref name="samples"/> for <paramref name="step"/>, unless there are none, they
    /// are being made already, or <see cref="Depth"/> steps are.
    /// </summary>
    public void Prefetch(int step, int[] samples)
    {
        if (samples.Length > 0 && ahead.Count < Depth && !ahead.ContainsKey(step))
            ahead[step] = Task.Run(() => Make(samples));
    }

    /// <summary>Waits for images made ahead that no step took (a run cancelled or failed) and frees them.</summary>
    public void Dispose()
    {
        while (ahead.Count > 0)
            Drop(ahead.First().Key);
    }

    private void Drop(int step)
    {
        if (!ahead.Remove(step, out Task<Tensor>? made))
            return;
        try
        {
            made.GetAwaiter().GetResult().Dispose();
        }
        catch (Exception)
        {
            // The step these were for does not run, so whatever failed in making them is no one's to report.
        }
    }

    private Tensor Make(int[] samples)
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
            // The first image's own error, as a loop over the batch raises it.
            ExceptionDispatchInfo.Throw(first);
        }
        return images;
    }
}
