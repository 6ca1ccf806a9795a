using System.Diagnostics;
using ReClip.Cli.Commands;
using ReClip.Model.Clip;
using ReClip.Model.Data;
using ReClip.Model.Data.Datasets;
using ReClip.Model.Data.Synthetic;
using ReClip.Model.Eval;
using ReClip.Model.ReClip;
using ReClip.Model.Reports;
using ReClip.Model.Training;
using ReClip.Runtime.IO;
using ReClip.Runtime.Tensors;

namespace ReClip.Cli.Demo;

/// <summary>
/// The whole method on the synthetic world with the tiny CLIP: generate (or reuse) the three splits, score the
/// MaskCLIP baseline, build the hypothesis of the training images (spec §8), train ReCLIP++ selecting the best
/// epoch on the select split (spec §9), score the best head on the val split (spec §10) and draw the pictures.
/// Both methods are scored the same way: whole image, no prompt denoising, mIoU over all classes.
/// </summary>
public sealed class DemoPipeline(DemoSettings settings, string weightsPath, string outputDirectory, string worldDirectory)
{
    private readonly List<(string Stage, double Seconds)> stages = [];

    /// <summary>Where the tiny CLIP's towers run (the head and the scoring stay on the CPU).</summary>
    public Device Device { get; init; } = Device.Cpu;

    /// <summary>The demo's dataset settings: the folder preset sized for the 128-pixel world, with the run's schedule.</summary>
    public DatasetPreset Preset { get; } = DatasetPreset.Folder with
    {
        NumClasses = SyntheticClasses.Names.Count,
        LastEpoch = settings.Epochs - 1,
        MaxEpoch = settings.MaxEpoch,
        LearningRate = settings.LearningRate,
        BatchSize = settings.BatchSize,
    };

    public DemoResult Run(CancellationToken cancel)
    {
        settings.Validate();
        var clock = Stopwatch.StartNew();
        OutputPath.CreateFolder(outputDirectory);
        SegmentationDataset train = World("train", settings.TrainImages, DemoSettings.TrainSeed);
        SegmentationDataset select = World("select", settings.SelectImages, DemoSettings.SelectSeed);
        SegmentationDataset val = World("val", settings.ValImages, DemoSettings.ValSeed);

        using ClipWeights clip = PipelineOptions.LoadWeights(weightsPath, Device);
        IReadOnlyList<string> classes = train.Classes;
        using Tensor query = Stage("Query bank", () => QueryBankCache.GetOrBuild(weightsPath, new TextTransformer(clip), ClipTokenizer.Default, classes, out _));
        var vision = new VisionTransformer(clip, ResidualBlock.MaskClipVisualEps);

        using var baseline = new Segmenter(vision, query, Preset) { DenoisingThreshold = null };
        EvaluationReport maskClip = Stage("MaskCLIP on val", () => Evaluate(baseline, val, "MaskCLIP val"));
        double maskClipSelect = Stage("MaskCLIP on select", () => Evaluate(baseline, select, "MaskCLIP select")).MeanIoU;

        int[][] hypotheses = Stage("hypothesis", () => Hypothesize(clip, query, train));
        HypothesisFile.Write(Path.Combine(outputDirectory, "hypothesis.jsonl"), hypotheses, train.SampleDigest);
        HypothesisQuality quality = Quality(train, hypotheses);

        var options = new TrainerOptions(Preset, Path.Combine(outputDirectory, "train"), Seed: settings.TrainingSeed);
        TrainingState state = Stage("training", () =>
            new TrainingSession(clip, ClipTokenizer.Default, train, select, hypotheses, options).Run(query, null, cancel));

        using HeadCheckpoint best = HeadCheckpoint.Open(Path.Combine(options.OutputDirectory, Trainer.BestCheckpoint));
        using ReClipHead head = best.CreateHead(new TextTransformer(clip), query, ClipTokenizer.Default).MoveTo(Device);
        using var reclip = new Segmenter(vision, head, Preset) { DenoisingThreshold = null };
        EvaluationReport reClip = Stage("ReCLIP++ on val", () => Evaluate(reclip, val, "ReCLIP++ val"));

        IReadOnlyList<string> overlays = Stage("pictures", () => Draw(val, baseline, reclip, state, maskClipSelect));
        return new DemoResult(settings, Preset, maskClip, reClip, quality, state, maskClipSelect, overlays, clock.Elapsed.TotalSeconds, stages);
    }

    private T Stage<T>(string name, Func<T> work)
    {
        var clock = Stopwatch.StartNew();
        T result = work();
        stages.Add((name, clock.Elapsed.TotalSeconds));
        return result;
    }

    private SegmentationDataset World(string split, int count, int seed)
    {
        string folder = Path.Combine(worldDirectory, $"{split}-n{count}-s{seed}");
        bool written = Stage($"world {split}", () => SyntheticDataset.EnsureWritten(folder, count, seed));
        Console.Error.WriteLine($"world {split}: {count} scenes {(written ? "generated" : "reused")} in {folder}");
        return SegmentationDataset.Open(Preset, folder, split);
    }

    private static EvaluationReport Evaluate(Segmenter segmenter, SegmentationDataset data, string label)
    {
        using var bar = new ProgressBar(label, data.Samples.Count);
        return Evaluator.Run(segmenter, data, progress: _ => bar.Advance());
    }

    private int[][] Hypothesize(ClipWeights clip, Tensor query, SegmentationDataset train)
    {
        var hypothesis = new Hypothesis(clip, query, Preset.HypothesisWindow, Preset.HypothesisStride);
        var result = new int[train.Samples.Count][];
        using var bar = new ProgressBar("hypothesis", result.Length);
        using var images = new ReadAhead<RgbImage>(result.Length, i => train.ReadImage(train.Samples[i]), ReadAhead.DefaultDepth);
        for (int i = 0; i < result.Length; i++)
        {
            result[i] = [.. hypothesis.Of(images.Next()).Order()];
            bar.Advance();
        }
        return result;
    }

    private static HypothesisQuality Quality(SegmentationDataset train, int[][] hypotheses)
    {
        long correct = 0, named = 0, present = 0;
        var counts = new int[train.Classes.Count];
        for (int i = 0; i < hypotheses.Length; i++)
        {
            Array.Clear(counts);
            foreach (byte label in train.ReadLabels(train.Samples[i]).Labels)
                if (label < counts.Length) counts[label]++;
            int[] truth = [.. Enumerable.Range(0, counts.Length).Where(c => counts[c] >= HypothesisQuality.MinimumPixels)];
            correct += hypotheses[i].Count(truth.Contains);
            named += hypotheses[i].Length;
            present += truth.Length;
        }
        return new HypothesisQuality((double)correct / Math.Max(named, 1), (double)correct / Math.Max(present, 1),
            (double)named / hypotheses.Length, (double)present / hypotheses.Length);
    }

    private List<string> Draw(SegmentationDataset val, Segmenter baseline, Segmenter reclip, TrainingState state, double maskClipSelect)
    {
        var written = new List<string>();
        int classes = val.Classes.Count;
        for (int i = 0; i < settings.Overlays; i++)
        {
            DatasetSample sample = val.Samples[i];
            (RgbImage image, LabelMap labels) = val.Read(sample);
            using Tensor before = baseline.Segment(image);
            using Tensor after = reclip.Segment(image);
            string path = Path.Combine(outputDirectory, $"overlay-{sample.Id}.png");
            SegmentationStrip.Write(path,
            [
                new StripPanel("image", image), StripPanel.OfLabels("ground truth", labels, classes),
                StripPanel.OfPrediction("MaskCLIP", before, classes), StripPanel.OfPrediction("ReCLIP++", after, classes),
            ], val.Classes);
            written.Add(path);
        }
        IReadOnlyList<EpochRecord> history = state.History;
        LineChart.Write(Path.Combine(outputDirectory, "loss.png"), "ReCLIP++ training loss", "epoch", "mean loss",
            [new ChartSeries("train loss", new SkiaSharp.SKColor(200, 60, 40), [.. history.Where(e => e.MeanLoss is not null).Select(e => ((double)e.Epoch + 1, e.MeanLoss!.Value))])]);
        LineChart.Write(Path.Combine(outputDirectory, "validation-miou.png"), "mIoU on the select split", "epoch", "mIoU %",
        [
            new ChartSeries("ReCLIP++", new SkiaSharp.SKColor(200, 60, 40), [.. history.Select(e => ((double)e.Epoch + 1, 100 * (e.ValidationMeanIoU ?? double.NaN)))]),
            new ChartSeries("MaskCLIP", new SkiaSharp.SKColor(40, 90, 200), [(1, 100 * maskClipSelect), (history.Count, 100 * maskClipSelect)]),
        ]);
        return written;
    }
}
