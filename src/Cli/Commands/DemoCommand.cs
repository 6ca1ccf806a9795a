using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using ReClip.Cli.Demo;
using ReClip.Model.Eval;
using ReClip.Runtime.IO;
using ReClip.Runtime.Platform;
using ReClip.Runtime.Tensors;

namespace ReClip.Cli.Commands;

/// <summary>
/// `reclip demo [--quick] [--json] [--out demo-out]`: the whole method end to end on the synthetic world with the
/// bundled tiny CLIP, with no download: MaskCLIP baseline, hypothesis, ReCLIP++ training and evaluation, then a
/// table, pictures and report.md in --out.
/// </summary>
public static class DemoCommand
{
    public static string BundledWeights => Path.Combine(AppContext.BaseDirectory, "assets", "tinyclip", "tinyclip-synthetic.safetensors");

    public static Command Create()
    {
        Option<bool> json = JsonOption.Create();
        var quick = new Option<bool>("--quick") { Description = "A smaller run (under 2 minutes on 2 cores) instead of the full one (about 1–3 minutes)." };
        var output = new Option<string>("--out") { Description = "Folder for the pictures, charts, report.md and the trained head.", DefaultValueFactory = _ => "demo-out" };
        var weights = new Option<string>("--weights") { Description = "CLIP weights (default: the bundled tiny CLIP trained on the synthetic world)." };
        var world = new Option<string>("--world") { Description = "Where the generated scenes are kept between runs (default: the reclip cache)." };
        var trainImages = new Option<int?>("--train-images") { Description = $"Training scenes (default: {DemoSettings.Full.TrainImages}, --quick {DemoSettings.Quick.TrainImages})." };
        var valImages = new Option<int?>("--val-images") { Description = $"Validation scenes scored at the end (default: {DemoSettings.Full.ValImages}, --quick {DemoSettings.Quick.ValImages})." };
        var epochs = new Option<int?>("--epochs") { Description = $"Training epochs (default: {DemoSettings.Full.Epochs}, --quick {DemoSettings.Quick.Epochs})." };
        var learningRate = new Option<double?>("--lr") { Description = $"Peak learning rate of the poly schedule (default: {DemoSettings.Full.LearningRate})." };
        var seed = new Option<ulong?>("--seed") { Description = $"Training seed: the head's initial values, the data order, the augmentation and the Gumbel noise (default: {DemoSettings.Full.TrainingSeed})." };
        Option<string> device = PipelineOptions.Device();
        var command = new Command("demo", "Run MaskCLIP and ReCLIP++ on the synthetic world with the bundled tiny CLIP and compare them.")
        {
            json, quick, output, weights, world, trainImages, valImages, epochs, learningRate, seed, device,
        };
        command.SetAction((parse, cancel) => Task.FromResult(Run(parse, cancel)));
        return command;

        int Run(ParseResult parse, CancellationToken cancel)
        {
            Device target = PipelineOptions.ResolveDevice(parse.GetValue(device)!);
            DemoSettings settings = parse.GetValue(quick) ? DemoSettings.Quick : DemoSettings.Full;
            if (parse.GetValue(trainImages) is int t) settings = settings with { TrainImages = t };
            if (parse.GetValue(valImages) is int v) settings = settings with { ValImages = v, Overlays = Math.Min(settings.Overlays, v) };
            if (parse.GetValue(epochs) is int e) settings = settings with { Epochs = e, MaxEpoch = Math.Max(settings.MaxEpoch, e + 1) };
            if (parse.GetValue(learningRate) is double lr) settings = settings with { LearningRate = lr };
            if (parse.GetValue(seed) is ulong s) settings = settings with { TrainingSeed = s };
            string weightsPath = parse.GetValue(weights) ?? BundledWeights;
            string folder = parse.GetValue(output)!;
            var pipeline = new DemoPipeline(settings, weightsPath, folder, parse.GetValue(world) ?? CacheFolders.Of("demo")) { Device = target };
            DemoResult result;
            try
            {
                result = pipeline.Run(cancel);
            }
            catch (OperationCanceledException)
            {
                Console.Error.WriteLine("reclip: demo interrupted");
                return ExitCode.Interrupted;
            }
            // The kernels are named because the training's path, and so its scores, depend on their vector width.
            string cpu = $"{CpuInfo.ModelName} ({CpuInfo.Threads} threads, {CpuInfo.KernelName(CpuInfo.Simd)} kernels)";
            DemoReport.Write(Path.Combine(folder, "report.md"), result, target.IsCpu ? $"{cpu}, CPU only" : $"{cpu}, the frozen towers on {target}");
            Print(result, folder, parse.GetValue(json));
            return ExitCode.Success;
        }
    }

    private static void Print(DemoResult r, string folder, bool asJson)
    {
        if (asJson)
        {
            var report = new DemoJson(Scores.Of(r.MaskClip), Scores.Of(r.ReClip), r.Seconds);
            Console.WriteLine(JsonSerializer.Serialize(report, CliJson.Output.DemoJson));
            return;
        }
        Terminal.Table($"synthetic world, {r.Settings.ValImages} validation scenes", ["method", "mIoU", "pixel accuracy", "class-preference score", "space-preference score"],
            new[] { ("MaskCLIP", r.MaskClip), ("ReCLIP++", r.ReClip) }.Select(m =>
                (IReadOnlyList<string>)[m.Item1, Figures.Percent(m.Item2.MeanIoU), Figures.Percent(m.Item2.PixelAccuracy), Figures.Score(m.Item2.ClassPreference), Figures.Score(m.Item2.SpacePreference)]));
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{r.Seconds:0.0} s; pictures, charts and report.md in {folder}"));
    }
}

/// <summary>One method's scores in `reclip demo --json` (fractions, not percent; named as `reclip eval --json` names them; scores as in docs/METRICS.md).</summary>
public sealed record Scores(double? Miou, double? PixelAccuracy, double? ClassPreference, double? SpacePreference)
{
    public static Scores Of(EvaluationReport e) => new(Figures.Finite(e.MeanIoU), Figures.Finite(e.PixelAccuracy), Figures.Finite(e.ClassPreference), Figures.Finite(e.SpacePreference));
}

/// <summary>`reclip demo --json`.</summary>
public sealed record DemoJson(Scores Maskclip, Scores Reclippp, double Seconds);
