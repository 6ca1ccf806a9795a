namespace ReClip.Cli.Demo;

/// <summary>
/// The sizes of a demo run: images per split of the synthetic world (train: hypothesis and training; select:
/// per-epoch validation that picks the best head; val: the final comparison, seen by neither), the training
/// schedule, and how many overlays to draw. The three splits come from different seeds, so they share no scene; the
/// training seed draws the head's initial values, the data order, the augmentation and the Gumbel noise.
/// </summary>
public sealed record DemoSettings(int TrainImages, int SelectImages, int ValImages, int Epochs, int MaxEpoch, double LearningRate, int BatchSize, int Overlays,
    ulong TrainingSeed = 1)
{
    public const int TrainSeed = 101, SelectSeed = 102, ValSeed = 103;

    /// <summary>
    /// The default run: about 2–3 minutes on 2 idle CPU cores. Batches of 8 at lr 0.04: BatchNorm's training statistics
    /// then span 8 scenes (512 patches) instead of one scene's 64, and of lr 0.02, 0.04 and 0.08 at batch 8 (and
    /// 0.16 at batch 16, the authors' Cityscapes rule of lr 0.01 per image) 0.04 scored best (docs/DEMO.md).
    /// </summary>
    public static DemoSettings Full { get; } = new(500, 100, 300, 30, 40, 0.04, 8, 8);

    /// <summary>--quick: under 2 minutes on 2 CPU cores; fewer scenes, so more epochs for about the same number of steps.</summary>
    public static DemoSettings Quick { get; } = new(200, 50, 100, 40, 54, 0.04, 8, 4);

    public void Validate()
    {
        if (TrainImages <= 0 || SelectImages <= 0 || ValImages <= 0)
            throw new ArgumentException($"every split needs images (train {TrainImages}, select {SelectImages}, val {ValImages})");
        if (Epochs <= 0 || Epochs > MaxEpoch)
            throw new ArgumentException($"epochs must lie in 1..{MaxEpoch} (the schedule's horizon), got {Epochs}");
        if (!double.IsFinite(LearningRate) || LearningRate <= 0)
            throw new ArgumentException($"the learning rate must be a positive number, got {LearningRate}");
        if (Overlays < 0 || Overlays > ValImages)
            throw new ArgumentException($"overlays must lie in 0..{ValImages}, got {Overlays}");
    }
}
