using ReClip.Model.Training;
using ReClip.Runtime.Tensors;

namespace ReClip.Tests.Model.Training;

/// <summary>
/// The training batches made ahead: a step gets exactly the images it would have made itself, in batch order, whether
/// they were made ahead or not; images made for another step are not handed out; no more steps are made at once than
/// the depth; an image that cannot be made fails with its own error at the step that needs it; images made ahead that
/// no step takes are freed, their errors dropped.
/// </summary>
[TestFixture]
public sealed class AugmentedBatchesTests
{
    private static readonly int[] ImageShape = [3, 2, 2];

    /// <summary>Sample i's image: 12 values from i, so any mix-up of samples or batch positions shows.</summary>
    private static void Fill(int sample, Span<float> image)
    {
        for (int k = 0; k < image.Length; k++)
            image[k] = sample * 100 + k;
    }

    /// <summary><see cref="Fill"/>, counting the images it makes.</summary>
    private sealed class Counter
    {
        private int made;

        public int Made => Volatile.Read(ref made);

        public void Augment(int sample, Span<float> image)
        {
            Interlocked.Increment(ref made);
            Fill(sample, image);
        }
    }

    private static float[] Expected(int[] samples)
    {
        var values = new float[samples.Length * 12];
        for (int b = 0; b < samples.Length; b++)
            Fill(samples[b], values.AsSpan(b * 12, 12));
        return values;
    }

    [Test]
    public void ImagesMadeAheadAreThoseAStepMakesItself()
    {
        int[] first = [7, 3, 9, 1, 4], second = [2, 8];
        using var batches = new AugmentedBatches(Fill, ImageShape, 2);
        using (Tensor now = batches.Take(0, first))
        {
            Assert.That(now.Shape.ToArray(), Is.EqualTo(new[] { 5, 3, 2, 2 }));
            Assert.That(now.ToFloatArray(), Is.EqualTo(Expected(first)));
        }
        batches.Prefetch(1, second);
        using Tensor ahead = batches.Take(1, second);
        Assert.That(ahead.ToFloatArray(), Is.EqualTo(Expected(second)));
    }

    [Test]
    public void ImagesMadeForAnotherStepAreNotHandedOut()
    {
        var counter = new Counter();
        using var batches = new AugmentedBatches(counter.Augment, ImageShape, 2);
        batches.Prefetch(4, [1, 2]);
        batches.Prefetch(6, [9]);
        using (Tensor images = batches.Take(5, [6]))
            Assert.That(images.ToFloatArray(), Is.EqualTo(Expected([6])));
        Assert.That(counter.Made, Is.GreaterThanOrEqualTo(3), "the images made for step 4 were waited for and dropped, step 5's made anew");
        using (Tensor images = batches.Take(6, [9]))
            Assert.That(images.ToFloatArray(), Is.EqualTo(Expected([9])));
        Assert.That(counter.Made, Is.EqualTo(4), "step 6's were made ahead and kept");
    }

    [Test]
    public void NoMoreStepsAreMadeAtOnceThanTheDepth()
    {
        var counter = new Counter();
        using var batches = new AugmentedBatches(counter.Augment, ImageShape, 2);
        batches.Prefetch(1, [1]);
        batches.Prefetch(1, [1]);
        batches.Prefetch(2, [2]);
        batches.Prefetch(3, [3]);
        for (int step = 1; step <= 3; step++)
            using (Tensor images = batches.Take(step, [step]))
                Assert.That(images.ToFloatArray(), Is.EqualTo(Expected([step])));
        Assert.That(counter.Made, Is.EqualTo(3), "steps 1 and 2 made once ahead, step 3 at its turn");
        Assert.That(() => new AugmentedBatches(Fill, ImageShape, 0), Throws.TypeOf<ArgumentOutOfRangeException>());
    }

    [Test]
    public void AnImageThatCannotBeMadeFailsWithItsOwnErrorAtTheStepThatNeedsIt()
    {
        using var batches = new AugmentedBatches((sample, image) =>
        {
            if (sample == 3)
                throw new InvalidDataException("scene3.png: the image is truncated or corrupt");
            Fill(sample, image);
        }, ImageShape, 2);
        batches.Prefetch(1, [2, 3, 4]);
        Assert.That(() => batches.Take(1, [2, 3, 4]), Throws.TypeOf<InvalidDataException>().With.Message.EqualTo("scene3.png: the image is truncated or corrupt"));
        Assert.That(() => batches.Take(2, [3]), Throws.TypeOf<InvalidDataException>(), "made on the calling thread, the same error");
    }

    [Test]
    public void WhenSeveralImagesFailTheFirstInTheBatchIsReported()
    {
        using var batches = new AugmentedBatches((sample, image) =>
        {
            if (sample == 1)
            {
                // The batch's first broken image fails last.
                Thread.Sleep(50);
                throw new InvalidDataException("scene1.png: truncated");
            }
            if (sample == 3)
                throw new FileNotFoundException("scene3.png: no such file");
            Fill(sample, image);
        }, ImageShape, 2);
        Assert.That(() => batches.Take(0, [0, 1, 2, 3]), Throws.TypeOf<InvalidDataException>().With.Message.EqualTo("scene1.png: truncated"));
    }

    [Test]
    public void ImagesNoStepTakesAreDroppedWithTheirErrors()
    {
        var batches = new AugmentedBatches((_, _) => throw new IOException("gone"), ImageShape, 2);
        batches.Prefetch(1, [1]);
        Assert.That(batches.Dispose, Throws.Nothing);
        var healthy = new AugmentedBatches(Fill, ImageShape, 2);
        healthy.Prefetch(1, [1]);
        healthy.Prefetch(2, []);
        Assert.That(healthy.Dispose, Throws.Nothing);
    }
}
