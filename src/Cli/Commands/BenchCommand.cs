using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using ReClip.Model.Benchmarks;
using ReClip.Runtime.Cuda;
using ReClip.Runtime.Platform;
using ReClip.Runtime.Tensors;

namespace ReClip.Cli.Commands;

/// <summary>
/// `reclip bench`: how fast this machine runs the method, with ViT-B/16-size random weights made in memory (nothing to
/// download): ReCLIP++ segmentation images/s, training steps/s, and our SGEMM's GFLOP/s against the measured multiply-add
/// rate of the cores and the CPU's nominal peak; with a CUDA device, the image tower's images/s and cuBLAS's GFLOP/s there.
/// </summary>
public static class BenchCommand
{
    /// <summary>Timed work per measurement after its warm-up (at least 3 calls even when slower).</summary>
    private static readonly TimeSpan TimePerWorkload = TimeSpan.FromSeconds(2);

    public static Command Create()
    {
        Option<bool> json = JsonOption.Create();
        var device = new Option<string>("--device")
        {
            Description = "auto or cpu: the whole method on the CPU; cuda or cuda:N: the towers, the head and the GEMM on that GPU.",
            DefaultValueFactory = _ => "auto",
        };
        var size = new Option<int>("--size") { Description = "Side of the segmented pictures and of the training crops, in pixels (VOC's crop: 336).", DefaultValueFactory = _ => 336 };
        var trainSize = new Option<int?>("--train-size") { Description = "Side of the training crops when it is not --size's (a GPU's image tower at 224, its training steps at VOC's 336)." };
        var classes = new Option<int>("--classes") { Description = "Number of classes (VOC 20, Context 59, ADE 150, COCO-Stuff 171).", DefaultValueFactory = _ => 20 };
        var batch = new Option<int>("--batch") { Description = "Images per call of the image tower on a GPU.", DefaultValueFactory = _ => 64 };
        var deadline = new Option<int?>("--deadline")
        {
            Description = "With a CUDA device: seconds from the start after which no further option is measured (each is reported as not tried), "
                + "so that a run under a time limit still writes its report.",
        };
        AtLeast(size, 1);
        AtLeast(deadline, 1);
        AtLeast(trainSize, 1);
        AtLeast(classes, 2);
        AtLeast(batch, 1);
        var command = new Command("bench", "Measure this machine: segmentation images/s, training steps/s and SGEMM GFLOP/s (ViT-B/16-size random weights).")
        {
            device, size, trainSize, classes, batch, deadline, json,
        };
        command.SetAction(parse =>
        {
            string requested = parse.GetValue(device)!;
            Device target = string.Equals(requested.Trim(), "auto", StringComparison.OrdinalIgnoreCase) ? Device.Cpu : Device.Parse(requested);
            int side = parse.GetValue(size), crop = parse.GetValue(trainSize) ?? side;
            if (!target.IsCpu)
                return RunGpu(target, side, crop, parse.GetValue(batch), parse.GetValue(classes), parse.GetValue(deadline), parse.GetValue(json));
            MachineBenchmarkResult result = MachineBenchmark.Run(side, crop, parse.GetValue(classes), TimePerWorkload);
            var report = BenchReport.From(result, target.ToString());
            if (parse.GetValue(json))
                Console.WriteLine(JsonSerializer.Serialize(report, CliJson.Output.BenchReport));
            else
                Render(report);
            return ExitCode.Success;
        });
        return command;
    }

    private const int ProfileRows = 12;

    private static int RunGpu(Device device, int size, int trainingSize, int batch, int classes, int? deadlineSeconds, bool json)
    {
        TimeSpan? deadline = deadlineSeconds is int seconds ? TimeSpan.FromSeconds(seconds) : null;
        GpuBenchmarkResult result = GpuBenchmark.Run(device, size, trainingSize, batch, classes, TimePerWorkload, deadline);
        if (json)
        {
            Console.WriteLine(JsonSerializer.Serialize(result, CliJson.Output.GpuBenchmarkResult));
            return ExitCode.Success;
        }
        Terminal.KeyValueTable(
        [
            ("device", result.Device),
            ("weights", result.Weights),
            ("image tower, dense", string.Create(CultureInfo.InvariantCulture, $"{result.DenseImagesPerSecond:F1} images/s ({result.Size}×{result.Size}, batch {result.Batch}, float32)")),
            ("image tower, pooled", string.Create(CultureInfo.InvariantCulture, $"{result.PooledImagesPerSecond:F1} images/s (same batches)")),
            ("bfloat16 linears", string.Create(CultureInfo.InvariantCulture, $"{result.DenseBFloat16ImagesPerSecond:F1} dense, {result.PooledBFloat16ImagesPerSecond:F1} pooled images/s (bfloat16 GEMMs and attention products, float32 accumulation and residual stream; dense features within {result.DenseBFloat16Deviation:G2} of float32's, relative)")),
            ("segmentation", string.Create(CultureInfo.InvariantCulture, $"{result.SegmentationImagesPerSecond:F2} images/s ({result.Size}×{result.Size}, {result.Classes} classes, towers and head on the GPU)")),
            ("segmentation phases", string.Create(CultureInfo.InvariantCulture,
                $"encode {result.SegmentationPhases.EncodeMilliseconds:F2} ms, head and denoising {result.SegmentationPhases.LogitsMilliseconds:F2} ms, upsampling and argmax {result.SegmentationPhases.UpsamplingMilliseconds:F2} ms (wall)")),
            ("training", string.Create(CultureInfo.InvariantCulture, $"{result.TrainingStepsPerSecond:F2} steps/s (crop {result.TrainingSize}, {result.Classes} classes, batch 1, towers and head on the GPU, ") +
                (result.TrainingGraphFailure is null
                    ? string.Create(CultureInfo.InvariantCulture, $"CUDA graphs; {result.TrainingEagerStepsPerSecond:F2} without, {result.TrainingGraphDeviation:G2} apart after {GpuBenchmarkResult.ParitySteps} steps)")
                    : $"no CUDA graph: {result.TrainingGraphFailure})")),
            ("training, bfloat16 image tower", string.Create(CultureInfo.InvariantCulture, $"{result.TrainingBFloat16StepsPerSecond:F2} steps/s (the same steps with `--image-bf16`)")),
            ("overlapped towers", string.Create(CultureInfo.InvariantCulture,
                $"{Rate(result.Options.TrainingOverlapStepsPerSecond, "F2")} training steps/s, {Rate(result.Options.TrainingOverlapDeviation, "G2")} apart from the eager run after {GpuBenchmarkResult.ParitySteps} steps (`--overlap-towers`)")),
            ("tuned GEMMs", string.Create(CultureInfo.InvariantCulture,
                $"{Rate(result.Options.TrainingTunedStepsPerSecond, "F2")} training steps/s, {Rate(result.Options.DenseBFloat16TunedImagesPerSecond, "F1")} dense images/s with bfloat16 linears (each GEMM's algorithm timed on the card: {CublasLt.TuningVariable}=1)")),
            ("TF32 GEMMs", string.Create(CultureInfo.InvariantCulture,
                $"{Rate(result.Options.TrainingTensorFloat32StepsPerSecond, "F2")} training steps/s, {Rate(result.Options.TrainingTensorFloat32BFloat16StepsPerSecond, "F2")} with the bfloat16 image tower, {Rate(result.Options.TrainingTensorFloat32Deviation, "G2")} from float32's trainable values after {GpuBenchmarkResult.ParitySteps} steps (`--tf32`); {Rate(result.Options.TrainingFastestStepsPerSecond, "F2")} with the towers overlapped too")),
            ("options that failed", result.Options.Failures.Count == 0 ? "none" : string.Join("; ", result.Options.Failures)),
            ("gemm", string.Create(CultureInfo.InvariantCulture, $"{result.GemmGflops:F0} GFLOP/s (cuBLAS float32, {result.GemmSize}³)")),
            ("model FLOP utilisation", Utilisation(result)),
        ]);
        MemoryTable(result);
        KernelTable("one dense float32 batch", result.DenseKernelTimes);
        KernelTable("one dense batch with bfloat16 linears", result.DenseBFloat16KernelTimes);
        KernelTable(string.Create(CultureInfo.InvariantCulture, $"one training step without CUDA graphs (wall {1000 / result.TrainingEagerStepsPerSecond:F2} ms)"),
            result.TrainingStepKernelTimes);
        KernelTable(string.Create(CultureInfo.InvariantCulture, $"one picture's segmentation (wall {1000 / result.SegmentationImagesPerSecond:F2} ms)"),
            result.SegmentationKernelTimes);
        return ExitCode.Success;
    }

    /// <summary>A figure of an option's measurement, or "none" where it has none (the options' failures say why).</summary>
    private static string Rate(double? value, string format) => value is double figure ? figure.ToString(format, CultureInfo.InvariantCulture) : "none";

    private static string Utilisation(GpuBenchmarkResult result) => result.Peak is GpuPeak peak
        ? string.Create(CultureInfo.InvariantCulture,
            $"dense {result.DenseMfu:P1} of {peak.Float32TeraFlops:F1} TFLOP/s float32, {result.DenseBFloat16Mfu:P1} of {peak.BFloat16TeraFlops:F0} TFLOP/s bfloat16 (dense, {peak.Card} datasheet; {result.DenseFlopsPerImage / 1e9:F1} GFLOP per image)")
        : "unknown: no datasheet figures for this card";

    private static void MemoryTable(GpuBenchmarkResult result)
    {
        string ceiling = result.Peak is GpuPeak peak ? string.Create(CultureInfo.InvariantCulture, $" against {peak.MemoryGigabytesPerSecond:F0} GB/s ({peak.Card})") : "";
        Terminal.Table($"Memory-bound kernels at the tower's sizes{ceiling}", ["kernel", "shape", "ms", "GB/s", "share"],
            result.MemoryBound.Select(rate => new[]
            {
                rate.Kernel, rate.Shape, rate.MillisecondsPerCall.ToString("F3", CultureInfo.InvariantCulture),
                rate.GigabytesPerSecond.ToString("F0", CultureInfo.InvariantCulture),
                result.Peak is GpuPeak card ? (rate.GigabytesPerSecond / card.MemoryGigabytesPerSecond).ToString("P0", CultureInfo.InvariantCulture) : "?",
            }));
    }

    private static void KernelTable(string what, IReadOnlyList<KernelTime> times)
    {
        double total = times.Sum(t => t.Milliseconds);
        Terminal.Table($"GPU time of {what}: {total.ToString("F2", CultureInfo.InvariantCulture)} ms", ["kernel", "calls", "ms", "share"],
            times.Take(ProfileRows).Select(t => new[]
            {
                t.Name, t.Calls.ToString(CultureInfo.InvariantCulture), t.Milliseconds.ToString("F3", CultureInfo.InvariantCulture),
                (t.Milliseconds / total).ToString("P1", CultureInfo.InvariantCulture),
            }));
    }

    private static void AtLeast(Option option, int minimum) =>
        option.Validators.Add(result =>
        {
            if (result.Tokens is [{ } token] && int.TryParse(token.Value, CultureInfo.InvariantCulture, out int value) && value < minimum)
                result.AddError($"{option.Name} must be at least {minimum}, not {value}");
        });

    private static void Render(BenchReport report)
    {
        string peak = report.PeakGflops is double gflops
            ? string.Create(CultureInfo.InvariantCulture, $"{gflops:F0} GFLOP/s = {report.Threads} threads × {report.SimdLanes} lanes × {report.FmaPipes} FMA pipe{(report.FmaPipes == 1 ? "" : "s")} × 2 × {report.ClockMhz:F0} MHz ({report.ClockSource})")
            : "unknown (no FMA or no readable clock)";
        Terminal.KeyValueTable(
        [
            ("device", $"{report.Device}: {report.Cpu}, {report.Threads} threads"),
            ("weights", report.Weights),
            ("segmentation", string.Create(CultureInfo.InvariantCulture, $"{report.SegmentationImagesPerSecond:F2} images/s ({report.Size}×{report.Size}, {report.Classes} classes, ReCLIP++ head)")),
            ("training", string.Create(CultureInfo.InvariantCulture, $"{report.TrainingStepsPerSecond:F2} steps/s (crop {report.TrainingSize}, {report.Classes} classes, batch 1)")),
            ("sgemm", string.Create(CultureInfo.InvariantCulture, $"{report.SgemmGflops:F1} GFLOP/s ({report.SgemmSize}³), {report.PercentOfFma:F0}% of the FMA rate") +
                (report.PercentOfPeak is double percent ? string.Create(CultureInfo.InvariantCulture, $", {percent:F0}% of peak") : "")),
            ("FMA rate", string.Create(CultureInfo.InvariantCulture, $"{report.FmaGflops:F1} GFLOP/s measured (register-only multiply-adds on {report.Threads} threads)")),
            ("peak", peak),
        ]);
    }
}

/// <summary>The JSON of `reclip bench`; the peak and its share are null where the clock or FMA is unknown.</summary>
public sealed record BenchReport(string Device, string Cpu, int Threads, string Weights, int Size, int TrainingSize, int Classes,
    double SegmentationImagesPerSecond, double TrainingStepsPerSecond, int SgemmSize, double SgemmGflops, double FmaGflops, double PercentOfFma,
    double? PeakGflops, double? PercentOfPeak, int SimdLanes, int FmaPipes, double? ClockMhz, string ClockSource)
{
    public static BenchReport From(MachineBenchmarkResult result, string device) =>
        new(device, CpuInfo.ModelName, result.Peak.Threads, result.Weights, result.Size, result.TrainingSize, result.Classes,
            result.SegmentationImagesPerSecond, result.TrainingStepsPerSecond, result.SgemmSize, result.SgemmGigaFlops, result.FmaGigaFlops, result.PercentOfFma,
            result.Peak.GigaFlops, result.PercentOfPeak, result.Peak.SimdLanes, result.Peak.FmaPipes, result.Peak.ClockMegahertz, result.Peak.ClockSource);
}
