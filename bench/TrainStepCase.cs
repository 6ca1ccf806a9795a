using ReClip.Model.Benchmarks;

namespace ReClip.Bench;

/// <summary>
/// One ReCLIP++ training step (<see cref="TrainingStepWorkload"/>) in the VOC setting of spec §13 (crop 336, B = 1,
/// 21×21 grid) on random ViT-B/16 weights, with <paramref name="classes"/> classes (VOC: 20).
/// </summary>
public sealed class TrainStepCase(int classes) : ICompareCase
{
    private const int Crop = 336;

    private readonly TrainingStepWorkload step = new(ClipCases.Weights, Crop, classes);

    public int WarmupCalls => 2;

    public void Run() => step.Run();

    public void Dispose() => step.Dispose();
}
