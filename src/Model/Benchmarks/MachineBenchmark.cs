using ReClip.Model.Clip;
using ReClip.Model.Data.Datasets;
using ReClip.Model.ReClip;
using ReClip.Runtime.Tensors;

namespace ReClip.Model.Benchmarks;

/// <summary>What <see cref="MachineBenchmark.Run"/> measured on this machine.</summary>
/// <param name="SegmentationImagesPerSecond">ReCLIP++ inference of size × size pictures (spec §10, whole image).</param>
/// <param name="TrainingStepsPerSecond">Training steps on trainingSize × trainingSize crops (spec §13, B = 1).</param>
/// <param name="SgemmGigaFlops">Our SGEMM on <see cref="SgemmThroughput.DefaultSize"/>³ products.</param>
/// <param name="FmaGigaFlops">The multiply-add throughput the compute threads reach on registers (<see cref="FmaThroughput"/>).</param>
public sealed record MachineBenchmarkResult(string Weights, int Size, int TrainingSize, int Classes, double SegmentationImagesPerSecond,
    double TrainingStepsPerSecond, int SgemmSize, double SgemmGigaFlops, double FmaGigaFlops, PeakFlops Peak)
{
    /// <summary>SGEMM's share of the theoretical peak, or null when the peak is unknown.</summary>
    public double? PercentOfPeak => Peak.GigaFlops is double peak ? 100 * SgemmGigaFlops / peak : null;

    /// <summary>SGEMM's share of the measured multiply-add throughput: what the kernel leaves on the table at the clock the cores really run.</summary>
    public double PercentOfFma => 100 * SgemmGigaFlops / FmaGigaFlops;
}

/// <summary>
/// Measures this machine on the workloads of the method with ViT-B/16-size CLIP weights of seeded random values made
/// in memory (<see cref="RandomClipFile"/>; the time does not depend on the values, and nothing is downloaded):
/// ReCLIP++ segmentation of a picture, a ReCLIP++ training step, and our SGEMM against the CPU's peak, nominal and measured.
/// </summary>
public static class MachineBenchmark
{
    public const string WeightsDescription = "random ViT-B/16-size weights, made in memory";

    /// <summary>Register-only multiply-adds reach their steady rate at once; half a second averages out scheduling noise.</summary>
    private static readonly TimeSpan FmaTime = TimeSpan.FromSeconds(0.5);

    public static MachineBenchmarkResult Run(int size, int trainingSize, int classes, TimeSpan timePerWorkload)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(size);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(trainingSize);
        if (classes < 2)
            throw new ArgumentOutOfRangeException(nameof(classes), $"--classes {classes}: the training step needs at least 2 classes");
        using var file = new RandomClipFile();
        using ClipWeights weights = ClipWeights.Load(file);
        double images = SegmentationRate(weights, size, classes, timePerWorkload);
        double steps;
        using (var step = new TrainingStepWorkload(weights, trainingSize, classes))
            steps = Throughput.PerSecond(step.Run, warmupCalls: 1, minimumCalls: 3, timePerWorkload);
        double gflops = SgemmThroughput.GigaFlops(SgemmThroughput.DefaultSize, timePerWorkload);
        double fma = FmaThroughput.GigaFlops(FmaTime);
        return new MachineBenchmarkResult(WeightsDescription, size, trainingSize, classes, images, steps, SgemmThroughput.DefaultSize, gflops, fma, PeakFlops.OfThisMachine());
    }

    /// <summary>Pictures per second of <see cref="SegmentationWorkload"/>.</summary>
    internal static double SegmentationRate(ClipWeights weights, int size, int classes, TimeSpan time)
    {
        using var workload = new SegmentationWorkload(weights, size, classes);
        return Throughput.PerSecond(workload.Run, warmupCalls: 1, minimumCalls: 3, time);
    }
}
