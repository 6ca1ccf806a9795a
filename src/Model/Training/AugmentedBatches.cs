using System.Runtime.ExceptionServices;
using ReClip.Runtime.Tensors;

namespace ReClip.Model.Training;

/// <summary>
/// The augmented images of training steps, made one step ahead on the thread pool, so that reading and augmenting the
/// next batch (spec §1.3: decoding, rescale, crop, photometric distortion; about a millisecond per image of the demo's
/// world, tens for a real dataset's) overlaps the current step instead of stalling the device between steps. A batch's
/// images are augmented in parallel. Each image depends only on its sample and the run's position (seed, epoch,
/// sample), so the same bits come out whichever thread makes them, and when.
/// </summary>
/// <param name="augment">Writes sample <c>i</c>'s augmented [3, Crop, Crop] image into the span it is given.</param>
/// <param name="imageShape">[3, Crop, Crop].</param>
internal sealed class AugmentedBatches(Action<int, Span<float>> augment, int[] imageShape) : IDisposable
{
    private (int Step, Task<Tensor> Images)? ahead;

    /// <summary>
    /// The images [n, 3, Crop, Crop] of <paramref name="samples"/> for <paramref name="step"/>: those made ahead for it,
    /// else made now. An image that could not be read fails here, at the step that needs it.
    /// </summary>
    public Tensor Take(int step, int[] samples)
    {
        if (ahead is { } made && made.Step == step)
        {
            ahead = null;
            return made.Images.GetAwaiter().GetResult();
        }
        Drop();
        return Make(samples);
    }

    /// <summary>Starts making the images of <paramref name="samples"/> for <paramref name="step"/> (nothing when there are none).</summary>
    public void Prefetch(int step, int[] samples)
    {
        Drop();
        if (samples.Length > 0)
            ahead = (step, Task.Run(() => Make(samples)));
    }

    /// <summary>Waits for images made ahead that no step took (a run cancelled or failed) and frees them.</summary>
    public void Dispose() => Drop();

    private void Drop()
    {
        if (ahead is not { } made)
            return;
        ahead = null;
        try
        {
            made.Images.GetAwaiter().GetResult().Dispose();
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
        try
        {
            Parallel.For(0, samples.Length, b => augment(samples[b], images.AsSpan<float>().Slice(b * length, length)));
            return images;
        }
        catch (AggregateException e)
        {
            images.Dispose();
            // An image's own error, as a loop over the batch raises it.
            ExceptionDispatchInfo.Capture(e.InnerExceptions[0]).Throw();
            throw;
        }
        catch
        {
            images.Dispose();
            throw;
        }
    }
}
