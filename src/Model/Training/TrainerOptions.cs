using ReClip.Model.Data.Datasets;
using ReClip.Model.ReClip;

namespace ReClip.Model.Training;

/// <summary>
/// What a training run needs besides the data: the preset's optimisation settings (spec §3.1: LR, MAX_EPOCH,
/// EPOCH, BATCH_SIZE, crop and scale), the seed of everything random (the head's initial values, the data order,
/// the augmentation, the Gumbel noise) and where checkpoints go.
/// </summary>
/// <param name="Preset">Settings of the training split's dataset, possibly overridden.</param>
/// <param name="OutputDirectory">Receives last.safetensors (every epoch, for --resume), best.safetensors and history.json.</param>
/// <param name="Seed">Same seed, same data and same CPU ⇒ the same run, bit for bit.</param>
/// <param name="PhotometricDistortion">Spec §1.3 step 5 (on in the authors' pipeline).</param>
public sealed record TrainerOptions(DatasetPreset Preset, string OutputDirectory, ulong Seed, bool PhotometricDistortion = true)
{
    /// <summary>
    /// A step whose loss or gradients are not finite is skipped (counted in the epoch's record) instead of stopping
    /// the run. Not part of the run's settings: a run stopped by such a step can be resumed with it.
    /// </summary>
    public bool SkipNonFinite { get; init; }

    /// <summary>
    /// On a GPU, steps replay as CUDA graphs (<see cref="StepGraph"/>); false queues every kernel anew, as a CPU run does.
    /// The same computation either way, so not part of the run's settings.
    /// </summary>
    public bool CudaGraphs { get; init; } = true;

    /// <summary>
    /// With <see cref="CudaGraphs"/> on a GPU, the Reference prompt's text forward runs beside the image tower
    /// (<see cref="StepGraph.OverlapTowers"/>). The same values either way, so not part of the run's settings.
    /// </summary>
    public bool OverlapTowers { get; init; }

    /// <summary>
    /// On a GPU, the steps' float32 GEMMs (the towers' and the head's) run on TF32 tensor cores (<see cref="Runtime.Cuda.Float32Gemms"/>);
    /// validation stays float32. Other values than float32's, so part of the run's settings.
    /// </summary>
    public bool TensorFloat32 { get; init; }

    /// <summary>
    /// Which bias the head subtracts: both (ReCLIP++), or one alone or none for the paper's ablation (<see cref="BiasForm"/>).
    /// Another model, so part of the run's settings.
    /// </summary>
    public BiasForm Bias { get; init; }

    /// <summary>Learning rate of epoch <paramref name="epoch"/> (0-based): LR·(1 − e/MAX_EPOCH)^0.9, constant within the epoch (spec §9).</summary>
    public double LearningRate(int epoch) => Preset.LearningRate * Math.Pow(1 - (double)epoch / Preset.MaxEpoch, 0.9);

    /// <summary>Epochs 0..EPOCH run, so EPOCH + 1 of them (spec §3.1 "epochs actually run").</summary>
    public int Epochs => Preset.LastEpoch + 1;

    public void Validate()
    {
        if (Preset.BatchSize <= 0) throw new ArgumentException($"batch size must be positive, got {Preset.BatchSize}");
        if (!(Preset.LearningRate > 0) || double.IsInfinity(Preset.LearningRate))
            throw new ArgumentException($"learning rate must be positive and finite, got {Preset.LearningRate}");
        if (Preset.MaxEpoch <= 0) throw new ArgumentException($"MAX_EPOCH must be positive, got {Preset.MaxEpoch}");
        if (Preset.LastEpoch < 0 || Preset.LastEpoch >= Preset.MaxEpoch)
            throw new ArgumentException($"the last epoch ({Preset.LastEpoch}) must lie in 0..MAX_EPOCH−1 ({Preset.MaxEpoch - 1}): the poly schedule reaches 0 at MAX_EPOCH");
    }
}
