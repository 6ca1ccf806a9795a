namespace ReClip.Model.Benchmarks;

/// <summary>
/// What the GPU options that are off by default would change, measured after everything else in one
/// <see cref="GpuBenchmark.Run"/> (a failure of one is recorded in <see cref="Failures"/> and leaves the others).
/// </summary>
/// <param name="DenseBFloat16TunedImagesPerSecond">The dense tower with bfloat16 linears, each GEMM's algorithm timed on the card (`RECLIP_TUNE_GEMMS=1`); null if it failed.</param>
/// <param name="TrainingTunedStepsPerSecond">The training steps (CUDA graphs) with the GEMMs tuned the same way; null if it failed.</param>
/// <param name="TrainingOverlapStepsPerSecond">The training steps with the text forward beside the image tower in each graph (`train --overlap-towers`); null if it failed.</param>
/// <param name="TrainingOverlapDeviation">After <see cref="GpuBenchmarkResult.ParitySteps"/> steps from one start, the largest difference between the trainable values of the overlapped graphs' run and the eager run's, relative to each tensor's largest value: the same kernels on the same data, so 0 is expected. Null if it failed.</param>
/// <param name="Failures">"what: why" for each measurement that failed.</param>
public sealed record GpuOptionRates(double? DenseBFloat16TunedImagesPerSecond, double? TrainingTunedStepsPerSecond, double? TrainingOverlapStepsPerSecond,
    double? TrainingOverlapDeviation, IReadOnlyList<string> Failures);
