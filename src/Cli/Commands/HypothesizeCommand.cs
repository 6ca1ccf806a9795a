using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using ReClip.Model.Clip;
using ReClip.Model.Data;
using ReClip.Model.Data.Datasets;
using ReClip.Model.ReClip;
using ReClip.Model.Sharding;
using ReClip.Runtime.IO;
using ReClip.Runtime.Cuda;
using ReClip.Runtime.Tensors;

namespace ReClip.Cli.Commands;

/// <summary>
/// `reclip hypothesize --weights W --dataset D --root R [--split train] [--window N] [--stride N] --out FILE
/// [--shard i/n] [--device auto|cpu] [--json]`: the multi-label hypothesis of every image of a split (spec §8), one
/// JSON array per image in sample order, for training. Unlike the authors' script it needs no label files (any image
/// folder works), writes where it is told instead of appending to a fixed VOC path, and reports the images that are
/// too small for one window instead of leaving their empty line unexplained. With --shard it does one block of the
/// split and writes a shard file that `reclip merge` joins into the same hypothesis file.
/// </summary>
public static class HypothesizeCommand
{
    /// <summary>The identity settings of a hypothesis shard (window and stride decide every line).</summary>
    internal const string WindowSetting = "window", StrideSetting = "stride";

    public static Command Create()
    {
        Option<bool> json = JsonOption.Create();
        Option<string> weights = PipelineOptions.Weights(), dataset = PipelineOptions.Dataset(), root = PipelineOptions.Root();
        Option<string> split = PipelineOptions.Split("train"), device = PipelineOptions.Device();
        Option<bool> imageBFloat16 = PipelineOptions.ImageBFloat16();
        Option<bool> tensorFloat32 = PipelineOptions.TensorFloat32("the image tower's float32 GEMMs");
        var window = new Option<int?>("--window") { Description = "Window side in pixels of the original image (default: the preset's, spec §3.1)." };
        var stride = new Option<int?>("--stride") { Description = "Step between windows in pixels (default: the preset's)." };
        var output = new Option<string>("--out") { Description = "The hypothesis file to write (JSON lines, one per image); with --shard, the shard file.", Required = true };
        Option<DatasetShard?> shardOption = ShardOption.Create();
        var vocabulary = new VocabularyOptions();
        var command = new Command("hypothesize", "Write the multi-label hypothesis of every image: sliding windows classified by CLIP (spec §8).")
        {
            weights, dataset, root, split, window, stride, output, shardOption, device, imageBFloat16, tensorFloat32, json,
        };
        vocabulary.AddTo(command);
        command.SetAction((parse, cancel) => Task.FromResult(Run(parse, cancel)));
        return command;

        int Run(ParseResult parse, CancellationToken cancel)
        {
            // Checked before any work.
            Device target = PipelineOptions.ResolveDevice(parse.GetValue(device)!);
            bool imageInBFloat16 = PipelineOptions.ImageInBFloat16(parse, imageBFloat16, target);
            bool onTensorFloat32 = PipelineOptions.TensorFloat32Requested(parse, tensorFloat32, target);
            SegmentationDataset data = PipelineOptions.OpenDataset(parse, dataset, root, split);
            int side = Positive(parse.GetValue(window) ?? data.Preset.HypothesisWindow, "--window");
            int step = Positive(parse.GetValue(stride) ?? data.Preset.HypothesisStride, "--stride");
            DatasetShard? shard = parse.GetValue(shardOption);
            IReadOnlyList<DatasetSample> samples = shard?.Of(data.Samples) ?? data.Samples;
            string weightsPath = parse.GetRequiredValue(weights);
            string outputPath = parse.GetRequiredValue(output);
            OutputPath.CheckFile(outputPath);
            ShardIdentity? identity = shard is null ? null : ShardIdentity.Of(HypothesisShard.KindName, weightsPath, vocabulary.Identity(parse), data,
                [KeyValuePair.Create(WindowSetting, Text(side)), KeyValuePair.Create(StrideSetting, Text(step)), .. PipelineOptions.PrecisionSettings(imageInBFloat16, onTensorFloat32)]);
            using ClipWeights clip = PipelineOptions.LoadWeights(weightsPath, target, imageInBFloat16);
            var clock = Stopwatch.StartNew();
            // From the disk cache when there (spec §2.1: minutes for ADE's 150 classes on a CPU), so the shards of a
            // run on one machine build the bank once.
            using Tensor bank = QueryBankCache.GetOrBuild(weightsPath, new TextTransformer(clip), vocabulary.Tokenizer(parse),
                data.Classes, out _);
            var hypothesis = new Hypothesis(clip, bank, side, step);
            // After the Query bank, which is cached in float32.
            using Float32Gemms.Scope gemms = Float32Gemms.TensorFloat32(onTensorFloat32);

            var lines = new List<int[]>(samples.Count);
            long windows = 0;
            int empty = 0;
            using (var progress = new ProgressBar("hypothesis", samples.Count))
            using (var images = new ReadAhead<RgbImage>(samples.Count, i => data.ReadImage(samples[i]), ReadAhead.DefaultDepth))
            {
                for (int i = 0; i < samples.Count; i++)
                {
                    // Ctrl-C between two images: the file is written only at the end, so there is nothing to keep.
                    if (cancel.IsCancellationRequested)
                        return Interruption.NothingWritten(outputPath);
                    WindowPredictions predictions = hypothesis.Predict(images.Next());
                    lines.Add(Hypothesis.FirstAppearance(predictions.Top));
                    windows += predictions.Origins.Count;
                    if (predictions.Origins.Count == 0) empty++;
                    progress.Advance(status: $"{windows} windows");
                }
            }
            var result = new HypothesisShard(lines, windows, empty);
            double seconds = clock.Elapsed.TotalSeconds;
            if (shard is DatasetShard part)
            {
                ShardFile.Write(outputPath, identity!, part, seconds, result);
                Print(Report(outputPath, data.Preset.Name, side, step, data.Classes.Count, result, seconds), parse.GetValue(json), $" (shard {part}; join the shards with `reclip merge`)");
            }
            else
            {
                Complete(outputPath, data.SampleDigest, data.Preset.Name, side, step, data.Classes.Count, result, seconds, parse.GetValue(json));
            }
            return ExitCode.Success;
        }
    }


    /// <summary>Writes the hypothesis file of a whole split (one run, or merged shards) and prints its report.</summary>
    internal static void Complete(string output, string sampleDigest, string preset, int window, int stride, int classes, HypothesisShard result, double seconds,
        bool json)
    {
        HypothesisFile.Write(output, result.Hypotheses, sampleDigest);
        Print(Report(output, preset, window, stride, classes, result, seconds), json, "");
    }

    private static HypothesizeReport Report(string output, string preset, int window, int stride, int classes, HypothesisShard result, double seconds)
    {
        long found = 0;
        foreach (int[] line in result.Hypotheses)
            found += line.Length;
        int images = result.Images;
        return new HypothesizeReport(output, preset, window, stride, classes, images, result.Windows, (double)found / images, result.Empty,
            seconds, images / seconds, result.Windows / seconds);
    }

    private static void Print(HypothesizeReport report, bool json, string note)
    {
        if (json)
            Console.WriteLine(JsonSerializer.Serialize(report, CliJson.Output.HypothesizeReport));
        else
            Console.WriteLine(Summary(report) + note);
    }

    private static string Summary(HypothesizeReport r) => string.Create(CultureInfo.InvariantCulture,
        $"{r.Output}: {r.Images} images, {r.Windows} windows of {r.Window} px every {r.Stride} px, {r.MeanClassesPerImage:0.00} classes per image; " +
        $"{r.Empty} images no larger than a window (empty hypothesis); {r.Seconds:0.0} s, {r.ImagesPerSecond:0.00} images/s, {r.WindowsPerSecond:0.0} windows/s");

    private static string Text(int value) => value.ToString(CultureInfo.InvariantCulture);

    private static int Positive(int value, string option) =>
        value > 0 ? value : throw new ArgumentException($"{option} must be a positive number of pixels, not {value}");
}
