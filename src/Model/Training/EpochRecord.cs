namespace ReClip.Model.Training;

/// <summary>
/// One finished epoch: its learning rate, mean training loss (null when no step ran), steps run, batches skipped
/// for an empty first hypothesis, steps skipped for a non-finite loss or gradient (only with
/// <see cref="TrainerOptions.SkipNonFinite"/>), and validation mIoU (null when not validated).
/// </summary>
public sealed record EpochRecord(int Epoch, double LearningRate, double? MeanLoss, int Steps, int SkippedBatches, int NonFiniteSteps,
    [property: System.Text.Json.Serialization.JsonPropertyName("validation_miou")] double? ValidationMeanIoU, double Seconds);

/// <summary>
/// Where a run stands: the epochs done so far, the global step, and the part of epoch <see cref="NextEpoch"/> already
/// run when the run was interrupted (null at an epoch boundary).
/// </summary>
public sealed record TrainingState(int NextEpoch, long Step, IReadOnlyList<EpochRecord> History, EpochProgress? Partial = null)
{
    public static TrainingState Start { get; } = new(0, 0, []);

    /// <summary>The epoch with the highest validation mIoU (the first of equals), or null when none was validated.</summary>
    public EpochRecord? Best => History.Where(e => e.ValidationMeanIoU is not null).MaxBy(e => e.ValidationMeanIoU);
}

/// <summary>One step's report to the caller's progress display; <see cref="Skipped"/> says why a step did not update the head.</summary>
public readonly record struct StepProgress(int Epoch, int StepInEpoch, int StepsInEpoch, float Loss, string? Skipped);

/// <summary>The running totals of an epoch in progress: steps of it done, their loss sum and counts, and its seconds so far.</summary>
public sealed record EpochProgress(int StepsDone, double LossSum, int Steps, int SkippedBatches, int NonFiniteSteps, double Seconds)
{
    public static EpochProgress Empty { get; } = new(0, 0, 0, 0, 0, 0);
}
