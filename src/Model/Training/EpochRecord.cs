namespace ReClip.Model.Training;

/// <summary>One finished epoch: its learning rate, mean training loss, steps run and skipped, and validation mIoU (null when not validated).</summary>
public sealed record EpochRecord(int Epoch, double LearningRate, double MeanLoss, int Steps, int SkippedBatches,
    [property: System.Text.Json.Serialization.JsonPropertyName("validation_miou")] double? ValidationMeanIoU, double Seconds);

/// <summary>Where a run stands: the epochs done so far and the best validation result.</summary>
public sealed record TrainingState(int NextEpoch, long Step, IReadOnlyList<EpochRecord> History)
{
    public static TrainingState Start { get; } = new(0, 0, []);

    /// <summary>The epoch with the highest validation mIoU (the first of equals), or null when none was validated.</summary>
    public EpochRecord? Best => History.Where(e => e.ValidationMeanIoU is not null).MaxBy(e => e.ValidationMeanIoU);
}

/// <summary>One step's report to the caller's progress display.</summary>
public readonly record struct StepProgress(int Epoch, int StepInEpoch, int StepsInEpoch, float Loss, bool Skipped);
