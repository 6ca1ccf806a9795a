using ReClip.Kernels.Ops;
using ReClip.Model.Clip;
using ReClip.Runtime.Cuda;
using ReClip.Runtime.Tensors;

namespace ReClip.Model.Benchmarks;

/// <summary>What <see cref="GpuBenchmark.Run"/> measured on one CUDA device.</summary>
/// <param name="DenseImagesPerSecond">The image tower's MaskCLIP dense path (spec §4), batches of size × size images.</param>
/// <param name="PooledImagesPerSecond">The stock image tower (CLIP's encode_image), the same batches.</param>
/// <param name="DenseBFloat16ImagesPerSecond">The dense path with the tower's linear weights in bfloat16: bfloat16 GEMMs fed bfloat16 activations, attention on the tensor cores.</param>
/// <param name="PooledBFloat16ImagesPerSecond">The pooled path, the same way.</param>
/// <param name="DenseBFloat16Deviation">The largest difference between the bfloat16 and the float32 tower's dense features of one batch, relative to the largest feature: the check that the bfloat16 path computes the same thing, where no test runs (1.3e-3 for the CPU form of the same rounding, which leaves attention's probabilities unrounded).</param>
/// <param name="SegmentationImagesPerSecond">ReCLIP++ segmentation of one size × size picture, the towers and the head on the GPU (picture, filter and upsampling on the CPU).</param>
/// <param name="TrainingStepsPerSecond">Training steps on trainingSize × trainingSize crops (batch 1), the towers and the head on the GPU, each replayed as a CUDA graph as training runs them (queued kernel by kernel when the capture failed: see <paramref name="TrainingGraphFailure"/>).</param>
/// <param name="GemmGflops">cuBLAS float32 GEMM on <see cref="GpuBenchmark.GemmSize"/>³ products.</param>
/// <param name="DenseKernelTimes">Where one float32 dense batch spends its GPU time, per kernel and cuBLAS call, the largest first.</param>
/// <param name="DenseBFloat16KernelTimes">The same with the bfloat16 linear weights.</param>
/// <param name="TrainingStepKernelTimes">The same for one training step: set against the step's wall time, what the GPU is not doing is the CPU's part.</param>
/// <param name="DenseFlopsPerImage">The dense tower's model FLOPs per image (<see cref="VisionFlops"/>).</param>
/// <param name="PooledFlopsPerImage">The pooled tower's.</param>
/// <param name="Peak">The card's datasheet ceilings, or null for a card <see cref="GpuPeak"/> does not know.</param>
/// <param name="MemoryBound">The memory-bound kernels' bytes/s at the tower's sizes for the batch (<see cref="MemoryBoundRates"/>).</param>
/// <param name="TrainingEagerStepsPerSecond">The same steps queued kernel by kernel (`train --no-cuda-graphs`).</param>
/// <param name="TrainingGraphDeviation">After <see cref="ParitySteps"/> steps from the same start, the largest difference between the trainable values of the graph's run and the eager run's, relative to each tensor's largest value: the graph replays the same kernels on the same data, so 0 is expected. Null without a graph.</param>
/// <param name="TrainingGraphFailure">Why the steps could not be captured, or null.</param>
/// <param name="SegmentationKernelTimes">Where one picture's segmentation spends its GPU time: set against its wall time, the rest is the host's part (resize, transfers, prompt denoising, upsampling, argmax).</param>
/// <param name="TrainingBFloat16StepsPerSecond">The training steps of <paramref name="TrainingStepsPerSecond"/> with the image tower stored in bfloat16 (`train --image-bf16`), CUDA graphs and all.</param>
/// <param name="SegmentationPhases">One picture's segmentation by phase, wall time: the host's part apart from the GPU's.</param>
/// <param name="Options">The options that are off by default, measured last; every figure above takes the defaults (cuBLAS's own GEMM choices among them).</param>
public sealed record GpuBenchmarkResult(string Device, string Weights, int Size, int TrainingSize, int Batch, int Classes, double DenseImagesPerSecond,
    double PooledImagesPerSecond, double DenseBFloat16ImagesPerSecond, double PooledBFloat16ImagesPerSecond, double DenseBFloat16Deviation,
    double SegmentationImagesPerSecond,
    double TrainingStepsPerSecond, int GemmSize, double GemmGflops, IReadOnlyList<KernelTime> DenseKernelTimes,
    IReadOnlyList<KernelTime> DenseBFloat16KernelTimes, IReadOnlyList<KernelTime> TrainingStepKernelTimes,
    double DenseFlopsPerImage, double PooledFlopsPerImage, GpuPeak? Peak, IReadOnlyList<MemoryBoundRate> MemoryBound,
    double TrainingEagerStepsPerSecond, double? TrainingGraphDeviation, string? TrainingGraphFailure, IReadOnlyList<KernelTime> SegmentationKernelTimes,
    double TrainingBFloat16StepsPerSecond, SegmentationPhases SegmentationPhases, GpuOptionRates Options)
{
    /// <summary>Steps each run compares in <paramref name="TrainingGraphDeviation"/>: the first eager, the second captured, the rest replayed.</summary>
    public const int ParitySteps = 4;

    /// <summary>Model-FLOP utilisation of the dense float32 tower: its model FLOP/s over the card's float32 peak (null: peak unknown).</summary>
    public double? DenseMfu => Utilisation(DenseImagesPerSecond * DenseFlopsPerImage, Peak?.Float32TeraFlops);

    /// <summary>The same for the dense tower with bfloat16 linears, over the card's dense bfloat16 tensor-core peak.</summary>
    public double? DenseBFloat16Mfu => Utilisation(DenseBFloat16ImagesPerSecond * DenseFlopsPerImage, Peak?.BFloat16TeraFlops);

    /// <summary>The pooled tower with bfloat16 linears, over the same peak.</summary>
    public double? PooledBFloat16Mfu => Utilisation(PooledBFloat16ImagesPerSecond * PooledFlopsPerImage, Peak?.BFloat16TeraFlops);

    private static double? Utilisation(double flopsPerSecond, double? peakTeraFlops) => peakTeraFlops is double peak ? flopsPerSecond / (peak * 1e12) : null;
}

/// <summary>
/// Measures a CUDA device on the parts of the method that run there with ViT-B/16-size random weights made in memory: the
/// image tower (dense and pooled, float32 and with bfloat16 linear weights) at a batch size, segmentation and training with the towers and
/// the head there (as `--device cuda` runs them), and the float32 GEMM underneath. Every timed call ends with its results on the
/// host or a device synchronisation, so the rate is of finished work, launches and all. Then, untimed, a
/// <see cref="KernelProfile"/> of one dense batch in each precision and of one training step says where the GPU time goes,
/// and the memory-bound kernels' bytes/s say how close to the card's bandwidth they run.
/// </summary>
public static class GpuBenchmark
{
    public const int GemmSize = 4096;

    /// <summary>Pictures whose segmentation phases are timed apart (after a warm-up): enough to average out a few milliseconds' noise.</summary>
    private const int PhaseCalls = 10;

    /// <summary>
    /// Everything, the options last (<see cref="GpuOptionRates"/>); none of those is started once <paramref name="deadline"/>
    /// has passed since the start, when one is given, so that a caller's time limit does not lose the whole report.
    /// </summary>
    public static GpuBenchmarkResult Run(Device device, int size, int trainingSize, int batch, int classes, TimeSpan timePerWorkload,
        TimeSpan? deadline = null)
    {
        var clock = System.Diagnostics.Stopwatch.StartNew();
        // The untuned figures are cuBLAS's own choices, whatever RECLIP_TUNE_GEMMS says; the tuned ones are marked so.
        bool tuning = CublasLt.Tuning;
        CublasLt.Tuning = false;
        try
        {
            GpuBenchmarkResult result = Measure(device, size, trainingSize, batch, classes, timePerWorkload);
            return result with
            {
                Options = GpuOptionRates.Measure(device, size, trainingSize, batch, classes, timePerWorkload, () => clock.Elapsed > deadline),
            };
        }
        finally
        {
            CublasLt.Tuning = tuning;
        }
    }

    private static GpuBenchmarkResult Measure(Device device, int size, int trainingSize, int batch, int classes, TimeSpan timePerWorkload)
    {
        if (device.IsCpu)
            throw new ArgumentException("GpuBenchmark measures a CUDA device; `reclip bench --device cpu` measures the CPU", nameof(device));
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(size);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(trainingSize);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(batch);
        CudaDeviceInfo info = CudaDriver.Describe(device.Index);
        using var file = new RandomClipFile();
        using ClipWeights host = ClipWeights.Load(file);
        using ClipWeights weights = host.ToDevice(device);
        using Tensor pictures = RandomInputs.Images(batch, size);
        using Tensor images = pictures.ToDevice(device);
        (double dense, double pooled) = TowerRates(weights, images, timePerWorkload);
        IReadOnlyList<KernelTime> denseKernelTimes = DenseKernelTimes(weights, images);
        double denseHalf, pooledHalf, deviation, stepsHalf;
        IReadOnlyList<KernelTime> denseHalfKernelTimes;
        using (ClipWeights half = host.ToDevice(device, visionLinearsInBFloat16: true))
        {
            (denseHalf, pooledHalf) = TowerRates(half, images, timePerWorkload);
            denseHalfKernelTimes = DenseKernelTimes(half, images);
            deviation = DenseDeviation(weights, half, images);
            stepsHalf = GraphStepRate(half, trainingSize, classes, timePerWorkload);
        }
        double segmentation;
        IReadOnlyList<KernelTime> segmentationKernelTimes;
        SegmentationPhases phases;
        using (var segmenting = new SegmentationWorkload(weights, size, classes))
        {
            segmentation = Throughput.PerSecond(segmenting.Run, warmupCalls: 1, minimumCalls: 3, timePerWorkload);
            phases = segmenting.Phases(PhaseCalls);
            using KernelProfile profile = KernelProfile.Start(device.Index);
            segmenting.Run();
            segmentationKernelTimes = profile.Stop();
        }
        double steps, eagerSteps;
        string? graphFailure;
        IReadOnlyList<KernelTime> stepKernelTimes;
        using (var step = new TrainingStepWorkload(weights, trainingSize, classes))
        {
            // Two warm-up steps: the first runs eagerly, the second is captured.
            steps = Throughput.PerSecond(step.Run, warmupCalls: 2, minimumCalls: 3, timePerWorkload);
            graphFailure = step.Replayed ? null : step.GraphFailure ?? "no graph was replayed";
        }
        using (var step = new TrainingStepWorkload(weights, trainingSize, classes, cudaGraphs: false))
        {
            eagerSteps = Throughput.PerSecond(step.Run, warmupCalls: 1, minimumCalls: 3, timePerWorkload);
            // Kernel by kernel: a replayed graph is one launch, which a profile cannot split.
            using KernelProfile profile = KernelProfile.Start(device.Index);
            step.Run();
            stepKernelTimes = profile.Stop();
        }
        ClipConfig config = weights.Config;
        double gemm = MeasureGemm(device, timePerWorkload);
        IReadOnlyList<MemoryBoundRate> memoryBound = MemoryBoundRates.Measure(device, config, size, batch);
        double? graphDeviation = graphFailure is null ? GraphDeviation(weights, trainingSize, classes, overlapTowers: false) : null;
        return new GpuBenchmarkResult($"{device}: {info.Name}", MachineBenchmark.WeightsDescription, size, trainingSize, batch, classes, dense, pooled,
            denseHalf, pooledHalf, deviation, segmentation, steps, GemmSize, gemm, denseKernelTimes,
            denseHalfKernelTimes, stepKernelTimes, VisionFlops.Dense(config, size), VisionFlops.Pooled(config, size), GpuPeak.Of(info.Name),
            memoryBound, eagerSteps, graphDeviation, graphFailure, segmentationKernelTimes, stepsHalf, phases, GpuOptionRates.None);
    }

    /// <summary><paramref name="measure"/> with the GEMMs it meets tuned on the card (their first run, a warm-up's, times their algorithms).</summary>
    internal static double Tuned(Func<double> measure)
    {
        CublasLt.Tuning = true;
        try
        {
            return measure();
        }
        finally
        {
            CublasLt.Tuning = false;
        }
    }

    /// <summary>
    /// Training steps/s as training runs them on a GPU (the first step eager, the second captured, the rest replayed), the
    /// text forward beside the image tower with <paramref name="overlapTowers"/>, the float32 GEMMs on TF32 tensor cores
    /// with <paramref name="tensorFloat32"/>.
    /// </summary>
    internal static double GraphStepRate(ClipWeights weights, int size, int classes, TimeSpan time, bool overlapTowers = false, bool tensorFloat32 = false)
    {
        using var step = new TrainingStepWorkload(weights, size, classes, overlapTowers: overlapTowers);
        using Float32Gemms.Scope gemms = Float32Gemms.TensorFloat32(tensorFloat32);
        return Throughput.PerSecond(step.Run, warmupCalls: 2, minimumCalls: 3, time);
    }

    /// <summary>Images/s of the dense and the pooled image tower on <paramref name="images"/> (on the weights' device).</summary>
    private static (double Dense, double Pooled) TowerRates(ClipWeights weights, Tensor images, TimeSpan time) =>
        (TowerRate(weights, images, time, dense: true), TowerRate(weights, images, time, dense: false));

    /// <summary>Images/s of the dense (MaskCLIP) or the pooled image tower on <paramref name="images"/>.</summary>
    internal static double TowerRate(ClipWeights weights, Tensor images, TimeSpan time, bool dense)
    {
        var vision = new VisionTransformer(weights, ResidualBlock.MaskClipVisualEps);
        Action encode = dense ? () => vision.EncodeDense(images).Dispose() : () => vision.Encode(images).Dispose();
        Device device = images.Device;
        return images.Size(0) * Throughput.PerSecond(() => Finish(device, encode), warmupCalls: 2, minimumCalls: 3, time);
    }

    /// <summary>One dense batch under a <see cref="KernelProfile"/>, after <see cref="TowerRates"/> has warmed everything up.</summary>
    private static IReadOnlyList<KernelTime> DenseKernelTimes(ClipWeights weights, Tensor images)
    {
        var vision = new VisionTransformer(weights, ResidualBlock.MaskClipVisualEps);
        using KernelProfile profile = KernelProfile.Start(images.Device.Index);
        vision.EncodeDense(images).Dispose();
        return profile.Stop();
    }

    /// <summary>max |a − b| / max |a| over the dense features a, b of <paramref name="images"/> through two towers.</summary>
    private static double DenseDeviation(ClipWeights exact, ClipWeights rounded, Tensor images)
    {
        using DenseFeatures a = new VisionTransformer(exact, ResidualBlock.MaskClipVisualEps).EncodeDense(images);
        using DenseFeatures b = new VisionTransformer(rounded, ResidualBlock.MaskClipVisualEps).EncodeDense(images);
        float[] x = a.Features.ToFloatArray(), y = b.Features.ToFloatArray();
        double worst = 0, largest = 0;
        for (int i = 0; i < x.Length; i++)
        {
            worst = Math.Max(worst, Math.Abs((double)x[i] - y[i]));
            largest = Math.Max(largest, Math.Abs(x[i]));
        }
        return worst / largest;
    }

    /// <summary>
    /// max over the trainable tensors of max |graph − eager| / max |eager| after <see cref="GpuBenchmarkResult.ParitySteps"/> steps of
    /// each from one start; the graphs' float32 GEMMs on TF32 tensor cores with <paramref name="tensorFloat32"/>, the eager run's in float32.
    /// </summary>
    internal static double GraphDeviation(ClipWeights weights, int size, int classes, bool overlapTowers, bool tensorFloat32 = false)
    {
        using var replayed = new TrainingStepWorkload(weights, size, classes, overlapTowers: overlapTowers);
        using var eager = new TrainingStepWorkload(weights, size, classes, cudaGraphs: false);
        for (int i = 0; i < GpuBenchmarkResult.ParitySteps; i++)
        {
            using (Float32Gemms.TensorFloat32(tensorFloat32))
                replayed.Run();
            eager.Run();
        }
        float[][] a = replayed.ParameterValues(), b = eager.ParameterValues();
        double worst = 0;
        for (int t = 0; t < a.Length; t++)
        {
            double largest = 0, difference = 0;
            for (int i = 0; i < a[t].Length; i++)
            {
                largest = Math.Max(largest, Math.Abs(b[t][i]));
                difference = Math.Max(difference, Math.Abs((double)a[t][i] - b[t][i]));
            }
            worst = Math.Max(worst, largest > 0 ? difference / largest : difference);
        }
        return worst;
    }

    private static double MeasureGemm(Device device, TimeSpan time)
    {
        const int n = GemmSize;
        using Tensor hostA = RandomInputs.UnitRows(n, n, 3), hostB = RandomInputs.UnitRows(n, n, 4);
        using Tensor a = hostA.ToDevice(device), b = hostB.ToDevice(device), c = Tensor.Empty([n, n], DType.F32, device);
        double calls = Throughput.PerSecond(() => Finish(device, () => MatMul.Multiply(a, b, c)), warmupCalls: 3, minimumCalls: 5, time);
        return calls * 2.0 * n * n * n / 1e9;
    }

    private static void Finish(Device device, Action work)
    {
        work();
        CudaDriver.Synchronize(device.Index);
    }
}
