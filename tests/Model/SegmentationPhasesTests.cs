using ReClip.Model.Benchmarks;
using ReClip.Model.Clip;

namespace ReClip.Tests.Model;

/// <summary>The bench's split of a picture's segmentation into its phases, on a small CLIP of random weights.</summary>
[TestFixture]
public sealed class SegmentationPhasesTests
{
    [Test]
    public void EveryPhaseTakesTimeAndTheySplitOneSegmentation()
    {
        using var file = new RandomClipFile(visionWidth: 64, visionLayers: 1, grid: 4, textWidth: 64, textLayers: 1, embed: 32);
        using ClipWeights weights = ClipWeights.Load(file);
        using var workload = new SegmentationWorkload(weights, size: 64, classes: 3);
        SegmentationPhases phases = workload.Phases(2);
        Assert.Multiple(() =>
        {
            Assert.That(phases.EncodeMilliseconds, Is.Positive);
            Assert.That(phases.LogitsMilliseconds, Is.Positive);
            Assert.That(phases.UpsamplingMilliseconds, Is.Positive);
        });
        Assert.That(() => workload.Phases(0), Throws.InstanceOf<ArgumentOutOfRangeException>());
    }
}
