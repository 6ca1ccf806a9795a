using ReClip.Model.Training;
using ReClip.Runtime.Tensors;

namespace ReClip.Tests.Model.Training;

/// <summary>
/// A training step's batch made in parallel: every sample's image in its batch position; when images cannot be made,
/// the first of them in the batch fails with its own error, whichever failed first in time.
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

    [Test]
    public void EverySampleLandsInItsBatchPosition()
    {
        int[] samples = [7, 3, 9, 1, 4];
        using Tensor images = AugmentedBatches.Make(samples, ImageShape, Fill);
        var expected = new float[samples.Length * 12];
        for (int b = 0; b < samples.Length; b++)
            Fill(samples[b], expected.AsSpan(b * 12, 12));
        Assert.That(images.Shape.ToArray(), Is.EqualTo(new[] { 5, 3, 2, 2 }));
        Assert.That(images.ToFloatArray(), Is.EqualTo(expected));
    }

    [Test]
    public void AnImageThatCannotBeMadeFailsWithItsOwnError()
    {
        Assert.That(() => AugmentedBatches.Make([2, 3, 4], ImageShape, (sample, image) =>
        {
            if (sample == 3)
                throw new InvalidDataException("scene3.png: the image is truncated or corrupt");
            Fill(sample, image);
        }), Throws.TypeOf<InvalidDataException>().With.Message.EqualTo("scene3.png: the image is truncated or corrupt"));
    }

    [Test]
    public void WhenSeveralImagesFailTheFirstInTheBatchIsReported()
    {
        Assert.That(() => AugmentedBatches.Make([0, 1, 2, 3], ImageShape, (sample, image) =>
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
        }), Throws.TypeOf<InvalidDataException>().With.Message.EqualTo("scene1.png: truncated"));
    }
}
