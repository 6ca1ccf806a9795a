using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using ReClip.Model.Data.Datasets;
using ReClip.Model.Eval;
using ReClip.Model.ReClip;
using ReClip.Model.Sharding;
using ReClip.Runtime.IO;
using ReClip.Runtime.Cuda;
using ReClip.Runtime.Tensors;

namespace ReClip.Cli.Commands;

/// <summary>
/// `reclip eval`: a split scored as spec §10 (whole-image inference, prompt denoising at the preset's TEST.PD, two
/// bilinear upsamplings, mIoU over all classes) plus the bias scores of §11 and the throughput. With --shard it
/// scores one block of the split and writes its integer counts, which `reclip merge` adds up into the same report.
/// </summary>
public static class EvalCommand
{
    /// <summary>The identity settings of an evaluation shard: everything besides weights and data that changes a prediction.</summary>
    private const string ReClipMethod = "reclippp";

    internal const string MethodSetting = "method", CheckpointSetting = "checkpoint", DenoisingSetting = "prompt_denoising", SlideSetting = "slide", BiasSetting = "bias";

    private const string Off = "off";

    public static Command Create()
    {
        Option<bool> json = JsonOption.Create();
        Option<string> weights = PipelineOptions.Weights(), dataset = PipelineOptions.Dataset(), root = PipelineOptions.Root();
        Option<string> split = PipelineOptions.Split("val"), device = PipelineOptions.Device();
        Option<bool> imageBFloat16 = PipelineOptions.ImageBFloat16();
        Option<bool> tensorFloat32 = PipelineOptions.TensorFloat32("the float32 GEMMs of the towers and the head");
        var method = new Option<string>("--method") { Description = "reclippp (needs --checkpoint) or maskclip (the zero-shot baseline).", DefaultValueFactory = _ => ReClipMethod };
        method.AcceptOnlyFromAmong(ReClipMethod, "maskclip");
        var checkpoint = new Option<string?>("--checkpoint") { Description = "A trained ReCLIP++ head (from `reclip train`)." };
        Option<float?> pd = DenoisingOptions.Threshold();
        Option<bool> noPd = DenoisingOptions.Off();
        Option<string?> classToken = PipelineOptions.ClassToken("With --method maskclip only: a head runs with the class token it was trained with.");
        var slide = new Option<bool>("--slide") { Description = "Sliding-window inference (crop = the preset's crop size, stride 2/3 of it) instead of the whole image." };
        var output = new Option<string?>("--out") { Description = "Also write the JSON report to this file; with --shard (then required), the shard file for `reclip merge`." };
        Option<DatasetShard?> shardOption = ShardOption.Create();
        var command = new Command("eval", "Score a method on a dataset split: mIoU, pixel accuracy, class- and space-preference scores.")
        {
            json, weights, dataset, root, split, method, checkpoint, classToken, pd, noPd, slide, output, shardOption, device, imageBFloat16, tensorFloat32,
        };
        var vocabulary = new VocabularyOptions();
        vocabulary.AddTo(command);
        DenoisingOptions.Validate(command, pd, noPd);
        command.Validators.Add(result =>
        {
            if (result.GetResult(shardOption) is { Tokens.Count: > 0 } && result.GetResult(output) is not { Tokens.Count: > 0 })
                result.AddError("--shard needs --out, the file for the shard's partial result");
        });
        command.SetAction((parse, cancel) => Task.FromResult(Run(parse, cancel)));
        return command;

        int Run(ParseResult parse, CancellationToken cancel)
        {
            Device target = PipelineOptions.ResolveDevice(parse.GetValue(device)!);
            bool imageInBFloat16 = PipelineOptions.ImageInBFloat16(parse, imageBFloat16, target);
            bool onTensorFloat32 = PipelineOptions.TensorFloat32Requested(parse, tensorFloat32, target);
            string methodName = parse.GetValue(method)!;
            bool reclip = methodName == ReClipMethod;
            string? checkpointPath = parse.GetValue(checkpoint);
            if (reclip && checkpointPath is null)
                throw new ArgumentException("--method reclippp needs --checkpoint (a trained head); --method maskclip runs the baseline without one");
            if (!reclip && checkpointPath is not null)
                throw new ArgumentException("--checkpoint is a ReCLIP++ head; it does not apply to --method maskclip");
            SegmentationDataset data = PipelineOptions.OpenDataset(parse, dataset, root, split);
            float? threshold = DenoisingOptions.Resolve(parse, pd, noPd, (float)data.Preset.PromptDenoisingThreshold);
            string weightsPath = parse.GetRequiredValue(weights);
            string? classTokenPath = parse.GetValue(classToken);
            string? outputPath = parse.GetValue(output);
            if (outputPath is not null)
                OutputPath.CheckFile(outputPath);
            DatasetShard? shard = parse.GetValue(shardOption);
            IReadOnlyList<DatasetSample> samples = shard?.Of(data.Samples) ?? data.Samples;
            using InferenceModel model = InferenceModel.Load(weightsPath, target, imageInBFloat16, data.Classes, checkpointPath, vocabulary.Tokenizer(parse),
                classTokenPath);
            ShardIdentity? identity = shard is null ? null : ShardIdentity.Of(EvaluationShard.KindName, weightsPath, vocabulary.Identity(parse), data,
            [
                KeyValuePair.Create(MethodSetting, methodName),
                KeyValuePair.Create(CheckpointSetting, checkpointPath is null ? "none" : $"sha256 {FileDigest.Sha256(checkpointPath)}"),
                KeyValuePair.Create(DenoisingSetting, threshold is float t ? t.ToString(CultureInfo.InvariantCulture) : Off),
                KeyValuePair.Create(SlideSetting, parse.GetValue(slide) ? "true" : "false"),
                .. BiasSettings(model.BiasForm),
                .. PipelineOptions.PrecisionSettings(imageInBFloat16, onTensorFloat32),
                .. model.ClassTokenSettings,
            ]);
            // After the Query bank, which is cached in float32.
            using Float32Gemms.Scope gemms = Float32Gemms.TensorFloat32(onTensorFloat32);
            using Segmenter segmenter = model.Segmenter(data.Preset, threshold, parse.GetValue(slide));
            var clock = Stopwatch.StartNew();
            EvaluationCounts counts;
            try
            {
                using var bar = new ProgressBar($"eval {data.Preset.Name} {data.Split}{(shard is null ? "" : $" shard {shard}")}", samples.Count);
                counts = Evaluator.Count(segmenter, data, samples, progress: _ =>
                {
                    bar.Advance();
                    cancel.ThrowIfCancellationRequested();
                });
            }
            catch (OperationCanceledException)
            {
                return Interruption.NothingWritten(outputPath);
            }
            double seconds = clock.Elapsed.TotalSeconds;
            if (shard is DatasetShard part)
                ShardFile.Write(outputPath!, identity!, part, seconds, new EvaluationShard(counts));
            var run = new EvalRun(methodName, model.BiasForm?.Name(), data.Preset.Name, data.Split, threshold, segmenter.Slide);
            Complete(run, counts.Report(data.Classes, seconds), shard is null ? outputPath : null, parse.GetValue(json));
            return ExitCode.Success;
        }
    }

    /// <summary>
    /// The shard setting of an ablation's head (<see cref="BiasForm"/>); none for MaskCLIP and for a head that subtracts both
    /// biases, so that their shards are those of the runs before heads had a form, and merge with them.
    /// </summary>
    private static KeyValuePair<string, string>[] BiasSettings(BiasForm? form) =>
        form is BiasForm ablation && ablation != BiasForm.Both ? [KeyValuePair.Create(BiasSetting, ablation.Name())] : [];

    /// <summary>What was run, as the report names it; <paramref name="Bias"/> is the bias a head subtracts (<see cref="BiasForm"/>), null for MaskCLIP.</summary>
    internal sealed record EvalRun(string Method, string? Bias, string Dataset, string Split, float? PromptDenoising, bool Slide)
    {
        /// <summary>The run that made a set of evaluation shards, from their identity settings (a head's shards without a bias setting subtract both).</summary>
        public static EvalRun Of(ShardIdentity identity)
        {
            ArgumentNullException.ThrowIfNull(identity);
            string threshold = identity.Setting(DenoisingSetting), method = identity.Setting(MethodSetting);
            string? bias = identity.Settings.FirstOrDefault(s => s.Key == BiasSetting).Value;
            if (bias is not null && BiasForms.Parse(bias) is null)
                throw new InvalidDataException($"the shards' setting {BiasSetting} is '{bias}', not one of {string.Join(", ", BiasForms.Names)}");
            if (method == ReClipMethod)
                bias ??= BiasForm.Both.Name();
            return new EvalRun(method, bias, identity.Preset, identity.Split,
                threshold == Off ? null : float.Parse(threshold, NumberStyles.Float, CultureInfo.InvariantCulture), identity.Setting(SlideSetting) == "true");
        }
    }

    /// <summary>The method as the table names it: an ablation's head with what it subtracts ("reclippp (class bias only)").</summary>
    private static string MethodLabel(EvalReport report) =>
        report.Bias is string bias && BiasForms.Parse(bias) is BiasForm form && form != BiasForm.Both ? $"{report.Method} ({form.Description()})" : report.Method;

    /// <summary>Prints the report (a table, or JSON) and writes its JSON to <paramref name="output"/> when given.</summary>
    internal static void Complete(EvalRun run, EvaluationReport report, string? output, bool asJson)
    {
        var json = new EvalReport(run.Method, run.Bias, run.Dataset, run.Split, run.PromptDenoising, run.Slide,
            report.Images, report.Seconds, report.ImagesPerSecond, Figures.Finite(report.MeanIoU), Figures.Finite(report.PixelAccuracy),
            Figures.Finite(report.ClassPreference), Figures.Finite(report.SpacePreference),
            [.. report.ClassNames.Select((name, c) => new ClassIoU(name, report.ClassIoU[c]))]);
        string text = JsonSerializer.Serialize(json, CliJson.Output.EvalReport);
        if (output is not null)
            AtomicFile.WriteAllText(output, text + "\n");
        if (asJson)
        {
            Console.WriteLine(text);
            return;
        }
        Terminal.KeyValueTable(
        [
            ("method", MethodLabel(json)), ("dataset", $"{json.Dataset} ({json.Split}, {report.Images} images)"),
            ("prompt denoising", json.PromptDenoising is float t ? t.ToString("0.###", CultureInfo.InvariantCulture) : "off"),
            ("inference", json.Slide ? "sliding window" : "whole image"),
            ("mIoU", Figures.Percent(report.MeanIoU)), ("pixel accuracy", Figures.Percent(report.PixelAccuracy)),
            ("class-preference score", Figures.Score(report.ClassPreference)), ("space-preference score", Figures.Score(report.SpacePreference)),
            ("images/s", report.ImagesPerSecond.ToString("0.00", CultureInfo.InvariantCulture)),
        ]);
        Terminal.Table("IoU per class", ["class", "IoU %"],
            report.ClassNames.Select((name, c) => (IReadOnlyList<string>)[name, Figures.Percent(report.ClassIoU[c])]));
    }
}
