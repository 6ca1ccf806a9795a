using ReClip.Model.Benchmarks;
using ReClip.Model.Clip;
using ReClip.Model.Data;
using ReClip.Model.Data.Datasets;
using ReClip.Model.Data.Synthetic;
using ReClip.Model.Eval;
using ReClip.Model.ReClip;
using ReClip.Runtime.Tensors;
using ReClip.Tests.Model;

namespace ReClip.Tests.Model.Eval;

/// <summary>The evaluator on three synthetic 128-pixel scenes with the tiny CLIP and a random Query bank: scores, the frozen-feature cache, and files that cannot be read.</summary>
[TestFixture]
public sealed class EvaluatorTests
{
    private const int Images = 3;

    private string root = null!;
    private ClipWeights weights = null!;
    private Tensor query = null!;

    [OneTimeSetUp]
    public void Open()
    {
        weights = ClipWeights.Load(ClipFixture.PathOf("weights_openai.safetensors"));
        query = RandomInputs.UnitRows(SyntheticClasses.Names.Count, weights.Config.EmbedDim, seed: 5);
    }

    [OneTimeTearDown]
    public void Close()
    {
        query.Dispose();
        weights.Dispose();
    }

    [SetUp]
    public void Write()
    {
        root = Path.Combine(Path.GetTempPath(), $"reclip-eval-{Guid.NewGuid():N}");
        SyntheticDataset.Write(root, Images, seed: 9);
    }

    [TearDown]
    public void Remove() => Directory.Delete(root, recursive: true);

    private SegmentationDataset Dataset() => SegmentationDataset.Open(DatasetPreset.Folder, root, "val");

    private Segmenter Segmenter(SegmentationDataset dataset) => new(new VisionTransformer(weights, ResidualBlock.MaskClipVisualEps), query, dataset.Preset);

    [Test]
    public void ScoresEveryImageOfTheSplit()
    {
        SegmentationDataset dataset = Dataset();
        using Segmenter segmenter = Segmenter(dataset);
        var done = new List<int>();
        EvaluationReport report = Evaluator.Run(segmenter, dataset, progress: done.Add);

        var metrics = new SegmentationMetrics(dataset.Classes.Count);
        foreach (DatasetSample sample in dataset.Samples)
        {
            (RgbImage image, LabelMap labels) = dataset.Read(sample);
            using Tensor prediction = segmenter.Segment(image);
            metrics.Accumulate(prediction, labels);
        }
        Assert.Multiple(() =>
        {
            Assert.That(done, Is.EqualTo(new[] { 1, 2, 3 }));
            Assert.That(report.Images, Is.EqualTo(Images));
            Assert.That(report.MeanIoU, Is.EqualTo(metrics.MeanIoU()));
            Assert.That(report.PixelAccuracy, Is.EqualTo(metrics.PixelAccuracy()));
            Assert.That(report.ClassIoU, Is.EqualTo(metrics.PerClassIoU()));
            Assert.That(report.ClassPreference, Is.EqualTo(ClassPreferenceScore.Compute(metrics)));
            Assert.That(report.ClassNames, Is.EqualTo(SyntheticClasses.Names));
            Assert.That(double.IsFinite(report.SpacePreference) && report.Seconds > 0 && report.ImagesPerSecond > 0);
        });
    }

    [Test]
    public void CacheGivesTheSameScoresWithoutReadingImagesAgain()
    {
        SegmentationDataset dataset = Dataset();
        using Segmenter segmenter = Segmenter(dataset);
        using var cache = new FrozenFeatureCache();
        EvaluationReport first = Evaluator.Run(segmenter, dataset, cache);
        foreach (DatasetSample sample in dataset.Samples)
            File.Delete(sample.ImagePath);
        EvaluationReport second = Evaluator.Run(segmenter, dataset, cache);
        Assert.Multiple(() =>
        {
            Assert.That(cache.Count, Is.EqualTo(Images));
            Assert.That(second with { Seconds = 0 }, Is.EqualTo(first with { Seconds = 0 }).Using<EvaluationReport>(SameScores));
            Assert.That(() => Evaluator.Run(segmenter, dataset), Throws.TypeOf<FileNotFoundException>().With.Message.Contains(dataset.Samples[0].ImagePath));
        });
    }

    [Test]
    public void CacheRefusesOtherEncodingSettings()
    {
        SegmentationDataset dataset = Dataset();
        using Segmenter segmenter = Segmenter(dataset);
        using var slide = new Segmenter(new VisionTransformer(weights, ResidualBlock.MaskClipVisualEps), query, dataset.Preset) { Slide = true };
        using var cache = new FrozenFeatureCache();
        Evaluator.Run(segmenter, dataset, cache);
        Assert.That(() => Evaluator.Run(slide, dataset, cache), Throws.InvalidOperationException);
    }

    [Test]
    public void MissingLabelIsAnErrorNamingIt()
    {
        string label = Path.Combine(root, "labels", SyntheticDataset.Id(1) + ".png");
        SegmentationDataset dataset = Dataset();
        using Segmenter segmenter = Segmenter(dataset);
        File.Delete(label);
        Assert.Multiple(() =>
        {
            Assert.That(() => Evaluator.Run(segmenter, dataset), Throws.TypeOf<FileNotFoundException>().With.Message.Contains(label));
            Assert.That(Dataset, Throws.TypeOf<FileNotFoundException>().With.Message.Contains(label));
        });
    }

    [Test]
    public void CorruptLabelIsAnErrorNamingIt()
    {
        string label = Path.Combine(root, "labels", SyntheticDataset.Id(2) + ".png");
        File.WriteAllBytes(label, [0x89, (byte)'P', (byte)'N', (byte)'G', 1, 2, 3]);
        SegmentationDataset dataset = Dataset();
        using Segmenter segmenter = Segmenter(dataset);
        Assert.That(() => Evaluator.Run(segmenter, dataset), Throws.TypeOf<InvalidDataException>().With.Message.Contains(label));
    }

    [Test]
    public void ClassCountMustMatchTheModel()
    {
        SegmentationDataset dataset = Dataset();
        using Tensor fewer = Tensor.Zeros([2, weights.Config.EmbedDim]);
        using var segmenter = new Segmenter(new VisionTransformer(weights), fewer, dataset.Preset);
        Assert.That(() => Evaluator.Run(segmenter, dataset), Throws.ArgumentException.With.Message.Contains("11 dataset classes"));
    }

    private static bool SameScores(EvaluationReport a, EvaluationReport b) =>
        a.MeanIoU == b.MeanIoU && a.PixelAccuracy == b.PixelAccuracy && a.ClassIoU.SequenceEqual(b.ClassIoU)
        && a.ClassPreference == b.ClassPreference && a.SpacePreference == b.SpacePreference && a.Images == b.Images;
}
