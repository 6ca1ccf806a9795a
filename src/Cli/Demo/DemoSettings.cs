namespace ReClip.Cli.Demo;

/// <summary>
/// The sizes of a demo run: images per split of the synthetic world (train: hypothesis and training; select:
/// per-epoch validation that picks the best head; val: the final comparison, seen by neither), the training
/// schedule, and how many overlays to draw. The three splits come from different seeds, so they share no scene.
/// </summary>
public sealed record DemoSettings(int TrainImages, int SelectImages, int ValImages, int Epochs, int MaxEpoch, double LearningRate, int BatchSize, int Overlays)
{
    public const int TrainSeed = 101, SelectSeed = 102, ValSeed = 103;

    /// <summary>The default run: about 10 minutes on 2 CPU cores.</summary>
    public static DemoSettings Full { get; } = new(500, 100, 300, 30, 40, 0.01, 1, 8);

    /// <summary>--quick: under 2 minutes on 2 CPU cores.</summary>
    public static DemoSettings Quick { get; } = new(200, 50, 100, 10, 14, 0.01, 1, 4);

    public void Validate()
    {
        if (TrainImages <= 0 || SelectImages <= 0 || ValImages <= 0)
            throw new ArgumentException($"every split needs images (train {TrainImages}, select {SelectImages}, val {ValImages})");
        if (Epochs <= 0 || Epochs > MaxEpoch)
            throw new ArgumentException($"epochs must lie in 1..{MaxEpoch} (the schedule's horizon), got {Epochs}");
        if (Overlays < 0 || Overlays > ValImages)
            throw new ArgumentException($"overlays must lie in 0..{ValImages}, got {Overlays}");
    }
}
