using ReClip.Model.Clip;
using ReClip.Runtime.Cuda;
using ReClip.Runtime.Tensors;

namespace ReClip.Model.Benchmarks;

/// <summary>
/// What the GPU options that are off by default would change, measured after everything else in one
/// <see cref="GpuBenchmark.Run"/>, with weights of their own and each on its own: they have had fewer runs on a card
/// than the defaults, so one that fails costs its own figure (recorded in <see cref="Failures"/>), and one that leaves
/// the device unusable costs the figures after it, never those the bench measured before.
/// </summary>
/// <param name="DenseBFloat16TunedImagesPerSecond">The dense tower with bfloat16 linears, each GEMM's algorithm timed on the card (`RECLIP_TUNE_GEMMS=1`); null if it failed.</param>
/// <param name="TrainingTunedStepsPerSecond">The training steps (CUDA graphs) with the GEMMs tuned the same way; null if it failed.</param>
/// <param name="TrainingOverlapStepsPerSecond">The training steps with the text forward beside the image tower in each graph (`train --overlap-towers`); null if it failed.</param>
/// <param name="TrainingOverlapDeviation">After <see cref="GpuBenchmarkResult.ParitySteps"/> steps from one start, the largest difference between the trainable values of the overlapped graphs' run and the eager run's, relative to each tensor's largest value: the same kernels on the same data, so 0 is expected. Null if it failed.</param>
/// <param name="TrainingTensorFloat32StepsPerSecond">The training steps (CUDA graphs) with their float32 GEMMs on TF32 tensor cores (`train --tf32`); null if it failed.</param>
/// <param name="TrainingTensorFloat32BFloat16StepsPerSecond">The same with the image tower in bfloat16 as well (`train --tf32 --image-bf16`); null if it failed.</param>
/// <param name="TrainingTensorFloat32Deviation">After <see cref="GpuBenchmarkResult.ParitySteps"/> steps from one start, the largest difference between the trainable values of the TF32 graphs' run and the float32 eager run's, relative to each tensor's largest value: how far TF32 takes training from float32 (not 0). Null if it failed.</param>
/// <param name="TrainingFastestStepsPerSecond">The training steps with all three of `--tf32 --image-bf16 --overlap-towers`; null if it failed.</param>
/// <param name="Failures">"what: why" for each measurement that failed or was not made.</param>
public sealed record GpuOptionRates(double? DenseBFloat16TunedImagesPerSecond, double? TrainingTunedStepsPerSecond, double? TrainingOverlapStepsPerSecond,
    double? TrainingOverlapDeviation, double? TrainingTensorFloat32StepsPerSecond, double? TrainingTensorFloat32BFloat16StepsPerSecond,
    double? TrainingTensorFloat32Deviation, double? TrainingFastestStepsPerSecond, IReadOnlyList<string> Failures)
{
    /// <summary>Before they are measured: no figures, no failures.</summary>
    public static GpuOptionRates None { get; } = new(null, null, null, null, null, null, null, null, []);

    /// <summary>Each option's figures; those not started before <paramref name="outOfTime"/> says so are reported as not tried.</summary>
    internal static GpuOptionRates Measure(Device device, int size, int trainingSize, int batch, int classes, TimeSpan time, Func<bool> outOfTime)
    {
        if (outOfTime())
            return None with { Failures = ["every option: not tried, past the run's deadline"] };
        var attempts = new Attempts(device.Index, outOfTime);
        try
        {
            using var file = new RandomClipFile();
            using ClipWeights host = ClipWeights.Load(file);
            using ClipWeights weights = host.ToDevice(device);
            using Tensor pictures = RandomInputs.Images(batch, size);
            using Tensor images = pictures.ToDevice(device);
            attempts.Run("tuned GEMMs, bfloat16 tower", 0, () =>
            {
                using ClipWeights half = host.ToDevice(device, visionLinearsInBFloat16: true);
                return GpuBenchmark.Tuned(() => GpuBenchmark.TowerRate(half, images, time, dense: true));
            });
            attempts.Run("tuned GEMMs, training steps", 1, () => GpuBenchmark.Tuned(() => GpuBenchmark.GraphStepRate(weights, trainingSize, classes, time)));
            attempts.Run("overlapped towers, training steps", 2, () => GpuBenchmark.GraphStepRate(weights, trainingSize, classes, time, overlapTowers: true));
            if (attempts.Figures[2] is not null)
                attempts.Run("overlapped towers, parity", 3, () => GpuBenchmark.GraphDeviation(weights, trainingSize, classes, overlapTowers: true));
            attempts.Run("TF32 GEMMs, training steps", 4, () => GpuBenchmark.GraphStepRate(weights, trainingSize, classes, time, tensorFloat32: true));
            using (ClipWeights half = host.ToDevice(device, visionLinearsInBFloat16: true))
            {
                attempts.Run("TF32 GEMMs, bfloat16 image tower, training steps", 5,
                    () => GpuBenchmark.GraphStepRate(half, trainingSize, classes, time, tensorFloat32: true));
                attempts.Run("TF32 GEMMs, bfloat16 image tower, overlapped towers, training steps", 7,
                    () => GpuBenchmark.GraphStepRate(half, trainingSize, classes, time, overlapTowers: true, tensorFloat32: true));
            }
            if (attempts.Figures[4] is not null)
                attempts.Run("TF32 GEMMs, distance from float32", 6,
                    () => GpuBenchmark.GraphDeviation(weights, trainingSize, classes, overlapTowers: false, tensorFloat32: true));
        }
        catch (Exception e) when (Attempts.Recoverable(e))
        {
            // Loading their inputs, or freeing them on a device an option broke.
            attempts.Failures.Add($"the options' weights and pictures: {e.Message}");
        }
        double?[] figures = attempts.Figures;
        return new GpuOptionRates(figures[0], figures[1], figures[2], figures[3], figures[4], figures[5], figures[6], figures[7], attempts.Failures);
    }


    /// <summary>
    /// The figures so far and the failures; after a failure that leaves the device unusable, or once the caller is out of
    /// time, the rest are not tried.
    /// </summary>
    private sealed class Attempts(int device, Func<bool> outOfTime)
    {
        private bool deviceLost;

        public double?[] Figures { get; } = new double?[8];

        public List<string> Failures { get; } = [];

        public static bool Recoverable(Exception e) =>
            e is CudaException or InvalidOperationException or ArgumentException or NotSupportedException or OutOfMemoryException;

        public void Run(string what, int figure, Func<double> measure)
        {
            if (deviceLost)
            {
                Failures.Add($"{what}: not tried, the device failed before");
                return;
            }
            if (outOfTime())
            {
                Failures.Add($"{what}: not tried, past the run's deadline");
                return;
            }
            try
            {
                Figures[figure] = measure();
            }
            catch (Exception e) when (Recoverable(e))
            {
                Failures.Add($"{what}: {e.Message}");
                deviceLost = e is CudaException && !Usable(device);
            }
        }

        /// <summary>Whether the device still runs work: an error such as an illegal address stays with the context, and every later call returns it.</summary>
        private static bool Usable(int device)
        {
            try
            {
                CudaDriver.Synchronize(device);
                return true;
            }
            catch (CudaException)
            {
                return false;
            }
        }
    }
}
