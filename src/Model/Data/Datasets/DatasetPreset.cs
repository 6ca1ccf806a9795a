namespace ReClip.Model.Data.Datasets;

/// <summary>
/// One dataset's settings as the authors' HEAD configs set them (spec §3.1). A record, so that every value can be
/// overridden with <c>with</c>. Scales are (long, short) bounds of mmseg's keep-ratio resize (spec §1.3 step 2).
/// Epochs: the poly schedule's horizon is <see cref="MaxEpoch"/>, and epochs 0..<see cref="LastEpoch"/> run.
/// </summary>
public sealed record DatasetPreset(
    string Name,
    DatasetLayout Layout,
    int NumClasses,
    bool ReduceZeroLabel,
    int TrainScaleLong,
    int TrainScaleShort,
    double RatioMin,
    double RatioMax,
    int CropSize,
    double CatMaxRatio,
    int BatchSize,
    double LearningRate,
    int MaxEpoch,
    int LastEpoch,
    int HypothesisWindow,
    int HypothesisStride,
    int TestScaleLong,
    int TestScaleShort,
    double PromptDenoisingThreshold)
{
    public const byte IgnoreIndex = LabelMap.Ignore;

    public static DatasetPreset Voc { get; } = new("voc", DatasetLayout.Voc, 20, true, 2048, 336, 0.5, 2.0, 336, 0.75, 1, 0.01, 200, 50, 56, 28, 2048, 336, 1.0);

    public static DatasetPreset Context { get; } = new("context", DatasetLayout.Context, 59, true, 2048, 448, 0.5, 2.0, 480, 0.75, 1, 0.01, 400, 50, 80, 40, 2048, 448, 0.85);

    public static DatasetPreset Ade { get; } = new("ade", DatasetLayout.Ade, 150, true, 2048, 512, 0.5, 2.0, 512, 0.75, 1, 0.01, 600, 100, 85, 42, 2048, 512, 0.5);

    public static DatasetPreset Cityscapes { get; } = new("cityscapes", DatasetLayout.Cityscapes, 19, false, 2048, 448, 0.5, 2.0, 512, 0.75, 16, 0.16, 300, 50, 85, 42, 2048, 448, 0.5);

    public static DatasetPreset CocoStuff { get; } = new("stuff", DatasetLayout.CocoStuff, 27, false, 2048, 512, 0.5, 2.0, 512, 0.75, 1, 0.01, 800, 100, 85, 42, 2048, 512, 0.95);

    /// <summary>
    /// The generic folder (images/, labels/, classes.txt). Not from the paper: settings sized for the 128-pixel
    /// synthetic world (crop = image size, an 8×8 patch grid; window/stride a quarter/eighth of the image; prompt
    /// denoising off at 1.0). <see cref="NumClasses"/> is 0 here and comes from classes.txt when the folder is opened.
    /// </summary>
    public static DatasetPreset Folder { get; } = new("folder", DatasetLayout.Folder, 0, false, 2048, 128, 0.5, 2.0, 128, 0.75, 1, 0.01, 200, 50, 32, 16, 2048, 128, 1.0);

    public static IReadOnlyList<DatasetPreset> All { get; } = [Voc, Context, Ade, Cityscapes, CocoStuff, Folder];

    /// <summary>The preset of a <c>DATASET.NAME</c> as the authors spell it (voc, context, ade, cityscapes, stuff) or "folder".</summary>
    public static DatasetPreset Named(string name) =>
        All.FirstOrDefault(p => string.Equals(p.Name, name, StringComparison.OrdinalIgnoreCase))
        ?? throw new ArgumentException($"unknown dataset '{name}' (known: {string.Join(", ", All.Select(p => p.Name))})", nameof(name));
}
