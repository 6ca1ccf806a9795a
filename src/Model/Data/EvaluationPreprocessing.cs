using ReClip.Model.Data.Datasets;

namespace ReClip.Model.Data;

/// <summary>
/// Evaluation preprocessing of spec §1.4: a keep-ratio bilinear resize to the preset's test scale (no crop, flip or
/// padding); the dataset normalisation follows (<see cref="DatasetNormalization"/>). Labels stay at their own size.
/// </summary>
public static class EvaluationPreprocessing
{
    public static RgbImage Resize(RgbImage image, DatasetPreset preset)
    {
        ArgumentNullException.ThrowIfNull(image);
        ArgumentNullException.ThrowIfNull(preset);
        (int width, int height) = ImageResize.KeepRatioSize(image.Width, image.Height, preset.TestScaleLong, preset.TestScaleShort);
        return ImageResize.Bilinear(image, width, height);
    }
}
