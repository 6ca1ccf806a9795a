using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using ReClip.Model.Clip;
using ReClip.Model.Data;
using ReClip.Model.Data.Datasets;
using ReClip.Model.ReClip;
using ReClip.Runtime.Tensors;

namespace ReClip.Cli.Commands;

/// <summary>
/// `reclip hypothesize --weights W --dataset D --root R [--split train] [--window N] [--stride N] --out FILE
/// [--device auto|cpu] [--json]`: the multi-label hypothesis of every image of a split (spec §8), one JSON array
/// per image in sample order, for training. Unlike the authors' script it needs no label files (any image folder
/// works), writes where it is told instead of appending to a fixed VOC path, and reports the images that are too
/// small for one window instead of leaving their empty line unexplained.
/// </summary>
public static class HypothesizeCommand
{
    public static Command Create()
    {
        Option<bool> json = JsonOption.Create();
        Option<string> weights = PipelineOptions.Weights(), dataset = PipelineOptions.Dataset(), root = PipelineOptions.Root();
        Option<string> split = PipelineOptions.Split("train"), device = PipelineOptions.Device();
        var window = new Option<int?>("--window") { Description = "Window side in pixels of the original image (default: the preset's, spec §3.1)." };
        var stride = new Option<int?>("--stride") { Description = "Step between windows in pixels (default: the preset's)." };
        var output = new Option<string>("--out") { Description = "The hypothesis file to write (JSON lines, one per image).", Required = true };
        var vocabulary = new VocabularyOptions();
        var command = new Command("hypothesize", "Write the multi-label hypothesis of every image: sliding windows classified by CLIP (spec §8).")
        {
            weights, dataset, root, split, window, stride, output, device, json,
        };
        vocabulary.AddTo(command);
        command.SetAction(parse =>
        {
            // Checked before any work; the encoders run where ResolveDevice allows (the CPU for now).
            PipelineOptions.ResolveDevice(parse.GetValue(device)!);
            SegmentationDataset data = PipelineOptions.OpenDataset(parse, dataset, root, split);
            int side = Positive(parse.GetValue(window) ?? data.Preset.HypothesisWindow, "--window");
            int step = Positive(parse.GetValue(stride) ?? data.Preset.HypothesisStride, "--stride");
            string weightsPath = parse.GetRequiredValue(weights);
            using ClipWeights clip = ClipWeights.Load(weightsPath);
            ClipTokenizer tokenizer = vocabulary.TokenizerFor(parse, clip, weightsPath);
            var clock = Stopwatch.StartNew();
            using Tensor bank = QueryBank.Build(new TextTransformer(clip), tokenizer, data.Classes);
            var hypothesis = new Hypothesis(clip, bank, side, step);

            var lines = new List<IReadOnlyList<int>>(data.Samples.Count);
            long windows = 0, classes = 0;
            int empty = 0;
            using (var progress = new ProgressBar("hypothesis", data.Samples.Count))
            {
                foreach (DatasetSample sample in data.Samples)
                {
                    RgbImage image = data.ReadImage(sample);
                    WindowPredictions predictions = hypothesis.Predict(image);
                    int[] found = Hypothesis.FirstAppearance(predictions.Top);
                    lines.Add(found);
                    windows += predictions.Origins.Count;
                    classes += found.Length;
                    if (predictions.Origins.Count == 0) empty++;
                    progress.Advance(status: $"{windows} windows");
                }
            }
            string outputPath = parse.GetRequiredValue(output);
            HypothesisFile.Write(outputPath, lines);
            double seconds = clock.Elapsed.TotalSeconds;
            var report = new HypothesizeReport(outputPath, data.Preset.Name, side, step, data.Classes.Count, lines.Count, windows,
                (double)classes / lines.Count, empty, seconds, lines.Count / seconds, windows / seconds);
            if (parse.GetValue(json))
                Console.WriteLine(JsonSerializer.Serialize(report, CliJson.Output.HypothesizeReport));
            else
                Console.WriteLine(Summary(report));
            return ExitCode.Success;
        });
        return command;
    }

    private static string Summary(HypothesizeReport r) => string.Create(CultureInfo.InvariantCulture,
        $"{r.Output}: {r.Images} images, {r.Windows} windows of {r.Window} px every {r.Stride} px, {r.MeanClassesPerImage:0.00} classes per image; " +
        $"{r.Empty} images no larger than a window (empty hypothesis); {r.Seconds:0.0} s, {r.ImagesPerSecond:0.00} images/s, {r.WindowsPerSecond:0.0} windows/s");

    private static int Positive(int value, string option) =>
        value > 0 ? value : throw new ArgumentException($"{option} must be a positive number of pixels, not {value}");
}
