namespace ReClip.Cli.Commands;

/// <summary>
/// The JSON of `reclip hypothesize`: how many images and windows, the mean hypothesis size, how many images
/// were too small for a single window (their hypothesis is empty, spec §8), and the speed.
/// </summary>
public sealed record HypothesizeReport(
    string Output,
    string Dataset,
    int Window,
    int Stride,
    int Classes,
    int Images,
    long Windows,
    double MeanClassesPerImage,
    int Empty,
    double Seconds,
    double ImagesPerSecond,
    double WindowsPerSecond);
