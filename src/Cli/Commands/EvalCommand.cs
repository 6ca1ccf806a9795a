using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using ReClip.Model.Data.Datasets;
using ReClip.Model.Eval;
using ReClip.Model.ReClip;

namespace ReClip.Cli.Commands;

/// <summary>
/// `reclip eval`: a split scored as spec §10 (whole-image inference, prompt denoising at the preset's TEST.PD, two
/// bilinear upsamplings, mIoU over all classes) plus the bias scores of §11 and the throughput.
/// </summary>
public static class EvalCommand
{
    public static Command Create()
    {
        Option<bool> json = JsonOption.Create();
        Option<string> weights = PipelineOptions.Weights(), dataset = PipelineOptions.Dataset(), root = PipelineOptions.Root();
        Option<string> split = PipelineOptions.Split("val"), device = PipelineOptions.Device();
        var method = new Option<string>("--method") { Description = "reclippp (needs --checkpoint) or maskclip (the zero-shot baseline).", DefaultValueFactory = _ => "reclippp" };
        method.AcceptOnlyFromAmong("reclippp", "maskclip");
        var checkpoint = new Option<string?>("--checkpoint") { Description = "A trained ReCLIP++ head (from `reclip train`)." };
        Option<float?> pd = DenoisingOptions.Threshold();
        Option<bool> noPd = DenoisingOptions.Off();
        var slide = new Option<bool>("--slide") { Description = "Sliding-window inference (crop = the preset's crop size, stride 2/3 of it) instead of the whole image." };
        var command = new Command("eval", "Score a method on a dataset split: mIoU, pixel accuracy, class- and space-preference scores.")
        {
            json, weights, dataset, root, split, method, checkpoint, pd, noPd, slide, device,
        };
        var vocabulary = new VocabularyOptions();
        vocabulary.AddTo(command);
        DenoisingOptions.Validate(command, pd, noPd);
        command.SetAction(parse =>
        {
            PipelineOptions.ResolveDevice(parse.GetValue(device)!);
            bool reclip = parse.GetValue(method) == "reclippp";
            string? checkpointPath = parse.GetValue(checkpoint);
            if (reclip && checkpointPath is null)
                throw new ArgumentException("--method reclippp needs --checkpoint (a trained head); --method maskclip runs the baseline without one");
            if (!reclip && checkpointPath is not null)
                throw new ArgumentException("--checkpoint is a ReCLIP++ head; it does not apply to --method maskclip");
            SegmentationDataset data = PipelineOptions.OpenDataset(parse, dataset, root, split);
            float? threshold = DenoisingOptions.Resolve(parse, pd, noPd, (float)data.Preset.PromptDenoisingThreshold);
            string weightsPath = parse.GetRequiredValue(weights);
            using InferenceModel model = InferenceModel.Load(weightsPath, data.Classes, checkpointPath, clip => vocabulary.TokenizerFor(parse, clip, weightsPath));
            using Segmenter segmenter = model.Segmenter(data.Preset, threshold, parse.GetValue(slide));
            EvaluationReport report;
            using (var bar = new ProgressBar($"eval {data.Preset.Name} {data.Split}", data.Samples.Count))
                report = Evaluator.Run(segmenter, data, progress: _ => bar.Advance());
            Print(report, new EvalReport(reclip ? "reclippp" : "maskclip", data.Preset.Name, data.Split, threshold, segmenter.Slide,
                report.Images, report.Seconds, report.ImagesPerSecond, Figures.Finite(report.MeanIoU), Figures.Finite(report.PixelAccuracy),
                Figures.Finite(report.ClassPreference), Figures.Finite(report.SpacePreference),
                [.. report.ClassNames.Select((name, c) => new ClassIoU(name, report.ClassIoU[c]))]), parse.GetValue(json));
            return ExitCode.Success;
        });
        return command;
    }

    private static void Print(EvaluationReport report, EvalReport json, bool asJson)
    {
        if (asJson)
        {
            Console.WriteLine(JsonSerializer.Serialize(json, CliJson.Output.EvalReport));
            return;
        }
        Terminal.KeyValueTable(
        [
            ("method", json.Method), ("dataset", $"{json.Dataset} ({json.Split}, {report.Images} images)"),
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
