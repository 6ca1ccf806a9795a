using ReClip.Runtime.Tensors;

namespace ReClip.Model.Data;

/// <summary>
/// The normalisation of the authors' training and evaluation pipeline (spec §1.3 step 6, §1.4), the dataset configs'
/// <c>IMG_NORM_CFG</c>: CLIP's statistics in 0..255 units, written to three decimals, applied to the float32 pixel
/// as <c>cv2.subtract</c> and <c>cv2.multiply</c> apply them (checked against OpenCV for every level): the difference
/// <c>p − mean</c> in float32 (OpenCV rounds the float64 mean to float32), then the product with 1/std in double
/// (1/std computed in double from the float32 std), rounded to float32. (CLIP's own preprocessing, which the
/// hypothesis uses, divides instead: <see cref="Clip.ClipImage"/>.)
/// </summary>
public static class DatasetNormalization
{
    public static ReadOnlySpan<float> Mean => [122.771f, 116.746f, 104.094f];

    public static ReadOnlySpan<float> Std => [68.501f, 66.632f, 70.323f];

    /// <summary>The scale of channel <paramref name="channel"/>: 1/std in double, as the product takes it.</summary>
    private static double InverseStd(int channel) => 1.0 / Std[channel];

    /// <summary>The image at its own size as a [1, 3, H, W] tensor.</summary>
    public static Tensor Normalize(RgbImage image)
    {
        ArgumentNullException.ThrowIfNull(image);
        Tensor tensor = Tensor.Empty([1, 3, image.Height, image.Width]);
        NormalizeInto(image, tensor.AsSpan<float>(), image.Width, image.Height);
        return tensor;
    }

    /// <summary>
    /// The image into the top-left corner of three planes <paramref name="planeWidth"/>×<paramref name="planeHeight"/>
    /// (a padded crop's), leaving the rest of each plane as it is.
    /// </summary>
    public static void NormalizeInto(RgbImage image, Span<float> planes, int planeWidth, int planeHeight)
    {
        ArgumentNullException.ThrowIfNull(image);
        int plane = planeWidth * planeHeight;
        if (image.Width > planeWidth || image.Height > planeHeight || planes.Length != 3 * plane)
            throw new ArgumentException($"{planes.Length} values in planes of {planeWidth}x{planeHeight} do not hold a {image.Width}x{image.Height} image", nameof(planes));
        ReadOnlySpan<byte> pixels = image.Pixels;
        for (int c = 0; c < 3; c++)
        {
            float mean = Mean[c];
            double inverse = InverseStd(c);
            for (int y = 0; y < image.Height; y++)
            {
                Span<float> row = planes.Slice(c * plane + y * planeWidth, image.Width);
                for (int x = 0; x < image.Width; x++)
                    row[x] = (float)((pixels[(y * image.Width + x) * 3 + c] - mean) * inverse);
            }
        }
    }
}
