using ReClip.Model.Clip;
using ReClip.Model.Data.Datasets;

namespace ReClip.Model.Data;

/// <summary>A training crop: the normalised image as [3, Crop, Crop] float32 (CHW, RGB) and its labels, padded bottom/right.</summary>
/// <param name="ValidWidth">Width of the image content before padding.</param>
/// <param name="ValidHeight">Height of the image content before padding.</param>
public sealed record TrainingSample(float[] Image, LabelMap Labels, int ValidWidth, int ValidHeight);

/// <summary>
/// The training-sample pipeline of spec §1.3 with its own seeded random stream: random keep-ratio rescale with a
/// ratio drawn from the preset's range (step 2), random crop with mmseg's category-ratio rule (step 3), horizontal
/// flip with p = 0.5 (step 4), photometric distortion (step 5, optional), the dataset normalisation (step 6,
/// <see cref="DatasetNormalization"/>) and padding to the crop size (step 7: image 0, i.e. the mean colour, label 255). The authors draw from numpy's global generator,
/// so the sequence of samples is not theirs, only its distribution.
/// </summary>
public sealed class TrainingAugmentation
{
    /// <summary>mmseg RandomCrop: the first box and up to 10 re-draws; the last drawn box is used when all 10 checks fail.</summary>
    public const int CropRedraws = 10;

    private readonly DatasetPreset preset;
    private readonly Random random;
    private readonly bool photometric;

    public TrainingAugmentation(DatasetPreset preset, int seed, bool photometricDistortion = true)
    {
        ArgumentNullException.ThrowIfNull(preset);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(preset.CropSize);
        if (!(preset.RatioMin > 0 && preset.RatioMax >= preset.RatioMin))
            throw new ArgumentException($"ratio range [{preset.RatioMin}, {preset.RatioMax}) of {preset.Name} is not a positive interval", nameof(preset));
        this.preset = preset;
        random = new Random(seed);
        photometric = photometricDistortion;
    }

    public TrainingSample Apply(RgbImage image, LabelMap labels)
    {
        (RgbImage cropImage, LabelMap cropLabels) = Augment(image, labels);
        if (photometric)
            PhotometricDistortion.Apply(cropImage, random);
        return Pad(cropImage, cropLabels, preset.CropSize);
    }

    /// <summary>Steps 2–4 on uint8 RGB: rescale, crop, flip. The result is at most CropSize on each side.</summary>
    public (RgbImage Image, LabelMap Labels) Augment(RgbImage image, LabelMap labels)
    {
        ArgumentNullException.ThrowIfNull(image);
        ArgumentNullException.ThrowIfNull(labels);
        if (image.Width != labels.Width || image.Height != labels.Height)
            throw new ArgumentException($"image {image.Width}x{image.Height} and labels {labels.Width}x{labels.Height} differ in size", nameof(labels));

        // Step 2: mmseg random_sample_ratio, then the keep-ratio size.
        double ratio = random.NextDouble() * (preset.RatioMax - preset.RatioMin) + preset.RatioMin;
        (int width, int height) = ImageResize.KeepRatioSize(image.Width, image.Height, (int)(preset.TrainScaleLong * ratio), (int)(preset.TrainScaleShort * ratio));
        LabelMap scaledLabels = ImageResize.Nearest(labels, width, height);

        // Step 3: crop, re-drawn while the category-ratio rule rejects it.
        int crop = preset.CropSize;
        (int x, int y) = DrawCrop(width, height, crop);
        if (preset.CatMaxRatio < 1)
            for (int i = 0; i < CropRedraws && !CropAccepted(scaledLabels, x, y, crop, preset.CatMaxRatio); i++)
                (x, y) = DrawCrop(width, height, crop);
        int cropWidth = Math.Min(crop, width - x), cropHeight = Math.Min(crop, height - y);
        // Only the crop of the rescaled image is computed: the same bytes as rescaling it all and cropping.
        RgbImage window = ImageResize.BilinearWindow(image, width, height, x, y, cropWidth, cropHeight);
        var outImage = new RgbImage(cropWidth, cropHeight);
        var outLabels = new LabelMap(cropWidth, cropHeight);

        // Step 4: horizontal flip with p = 0.5, done while copying the crop out.
        bool flip = random.NextDouble() < 0.5;
        for (int row = 0; row < cropHeight; row++)
            for (int col = 0; col < cropWidth; col++)
            {
                int sx = flip ? cropWidth - 1 - col : col;
                int source = row * cropWidth + sx, target = row * cropWidth + col;
                outLabels.Labels[target] = scaledLabels.Labels[(y + row) * width + x + sx];
                outImage.Pixels[target * 3] = window.Pixels[source * 3];
                outImage.Pixels[target * 3 + 1] = window.Pixels[source * 3 + 1];
                outImage.Pixels[target * 3 + 2] = window.Pixels[source * 3 + 2];
            }
        return (outImage, outLabels);
    }

    /// <summary>
    /// mmseg's cat_max_ratio check: counting the crop's label values without 255, at least two distinct values and the
    /// largest count below <paramref name="maxRatio"/> of the total.
    /// </summary>
    public static bool CropAccepted(LabelMap labels, int x, int y, int crop, double maxRatio)
    {
        ArgumentNullException.ThrowIfNull(labels);
        Span<int> counts = stackalloc int[256];
        counts.Clear();
        int bottom = Math.Min(y + crop, labels.Height), right = Math.Min(x + crop, labels.Width);
        for (int row = y; row < bottom; row++)
            foreach (byte value in labels.Labels.AsSpan(row * labels.Width + x, right - x))
                counts[value]++;
        int distinct = 0, total = 0, largest = 0;
        for (int v = 0; v < LabelMap.Ignore; v++)
            if (counts[v] > 0)
            {
                distinct++;
                total += counts[v];
                largest = Math.Max(largest, counts[v]);
            }
        return distinct > 1 && (double)largest / total < maxRatio;
    }

    /// <summary>Step 6 and 7: the dataset normalisation into [3, crop, crop], padding bottom/right with 0 (image) and 255 (labels).</summary>
    public static TrainingSample Pad(RgbImage image, LabelMap labels, int crop)
    {
        ArgumentNullException.ThrowIfNull(image);
        ArgumentNullException.ThrowIfNull(labels);
        if (image.Width > crop || image.Height > crop)
            throw new ArgumentException($"image {image.Width}x{image.Height} is larger than the crop {crop}", nameof(image));
        var pixels = new float[3 * crop * crop];
        var padded = new LabelMap(crop, crop);
        Array.Fill(padded.Labels, LabelMap.Ignore);
        DatasetNormalization.NormalizeInto(image, pixels, crop, crop);
        for (int y = 0; y < labels.Height; y++)
            labels.Labels.AsSpan(y * labels.Width, labels.Width).CopyTo(padded.Labels.AsSpan(y * crop, labels.Width));
        return new TrainingSample(pixels, padded, image.Width, image.Height);
    }

    // mmseg get_crop_bbox: offsets uniform in [0, max(H' − crop, 0)] and [0, max(W' − crop, 0)], inclusive.
    private (int X, int Y) DrawCrop(int width, int height, int crop)
    {
        int y = random.Next(0, Math.Max(height - crop, 0) + 1);
        int x = random.Next(0, Math.Max(width - crop, 0) + 1);
        return (x, y);
    }
}
