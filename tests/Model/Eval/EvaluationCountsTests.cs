using ReClip.Model.Benchmarks;
using ReClip.Model.Clip;
using ReClip.Model.Data.Datasets;
using ReClip.Model.Data.Synthetic;
using ReClip.Model.Eval;
using ReClip.Model.ReClip;
using ReClip.Model.Sharding;
using ReClip.Runtime.Tensors;

namespace ReClip.Tests.Model.Eval;

/// <summary>The counts of the blocks of a split, merged, score exactly what one run over the split scores (three synthetic scenes, the tiny CLIP, a random Query bank).</summary>
[TestFixture]
public sealed class EvaluationCountsTests
{
    private const int Images = 3;

    private string root = "";
    private ClipWeights weights = null!;
    private Tensor query = null!;

    [OneTimeSetUp]
    public void Open()
    {
        root = Directory.CreateTempSubdirectory("reclip-eval-counts-").FullName;
        SyntheticDataset.Write(root, Images, seed: 12);
        weights = ClipWeights.Load(ClipFixture.PathOf("weights_openai.safetensors"));
        query = RandomInputs.UnitRows(SyntheticClasses.Names.Count, weights.Config.EmbedDim, seed: 6);
    }

    [OneTimeTearDown]
    public void Close()
    {
        query.Dispose();
        weights.Dispose();
        Directory.Delete(root, recursive: true);
    }

    [TestCase(2)]
    [TestCase(3)]
    public void MergedShardCountsScoreBitForBitAsOneRun(int shards)
    {
        SegmentationDataset dataset = SegmentationDataset.Open(DatasetPreset.Folder, root, "val");
        using var segmenter = new Segmenter(new VisionTransformer(weights, ResidualBlock.MaskClipVisualEps), query, dataset.Preset);
        EvaluationReport whole = Evaluator.Run(segmenter, dataset);

        var merged = new EvaluationCounts(dataset.Classes.Count);
        for (int i = 0; i < shards; i++)
            merged.Merge(Evaluator.Count(segmenter, dataset, new DatasetShard(i, shards).Of(dataset.Samples)));
        EvaluationReport joined = merged.Report(dataset.Classes, whole.Seconds);
        Assert.Multiple(() =>
        {
            Assert.That(joined.ClassIoU, Is.EqualTo(whole.ClassIoU));
            Assert.That(joined with { ClassIoU = whole.ClassIoU }, Is.EqualTo(whole), "every score the same double");
            Assert.That(whole.MeanIoU, Is.InRange(0, 1), "a real score, not two NaNs");
        });
    }

    [Test]
    public void ReportNeedsANameForEveryClass() =>
        Assert.That(() => new EvaluationCounts(3).Report(["sky"], 1), Throws.ArgumentException.With.Message.Contain("1 class names for 3 classes"));
}
