namespace ReClip.Cli.Commands;

/// <summary>
/// The JSON of `reclip eval`. Scores are fractions in [0, 1] (preference scores in [−1, 1]); null where undefined. Bias is the
/// bias a head subtracts (both; class, space or none for an ablation's head), null for MaskCLIP.
/// </summary>
public sealed record EvalReport(
    string Method,
    string? Bias,
    string Dataset,
    string Split,
    float? PromptDenoising,
    bool Slide,
    int Images,
    double Seconds,
    double ImagesPerSecond,
    double? Miou,
    double? PixelAccuracy,
    double? ClassPreference,
    double? SpacePreference,
    IReadOnlyList<ClassIoU> Classes);

public sealed record ClassIoU(string Name, double Iou);
