using ReClip.Model.Data.Datasets;
using ReClip.Model.Eval;
using ReClip.Model.Training;

namespace ReClip.Cli.Demo;

/// <summary>How well the window hypothesis names the classes of the training images (classes with at least <see cref="HypothesisQuality.MinimumPixels"/> pixels count as present).</summary>
public sealed record HypothesisQuality(double Precision, double Recall, double ClassesPerImage, double PresentPerImage)
{
    public const int MinimumPixels = 20;
}

/// <summary>Everything a demo run measured, for the table, --json and report.md.</summary>
public sealed record DemoResult(
    DemoSettings Settings,
    DatasetPreset Preset,
    EvaluationReport MaskClip,
    EvaluationReport ReClip,
    HypothesisQuality Hypothesis,
    TrainingState Training,
    double MaskClipSelectionMeanIoU,
    IReadOnlyList<string> Overlays,
    double Seconds,
    IReadOnlyList<(string Stage, double Seconds)> Stages);
