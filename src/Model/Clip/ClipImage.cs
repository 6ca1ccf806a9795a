using ReClip.Model.Data;
using ReClip.Runtime.Tensors;

namespace ReClip.Model.Clip;

/// <summary>
/// CLIP's own preprocessing of a picture (spec §8), as torchvision runs it: <c>Resize(n, BICUBIC)</c> on a PIL image,
/// <c>CenterCrop(n)</c>, then <c>ToTensor</c> and <c>Normalize</c>: RGB divided by 255, minus CLIP's mean, divided by its
/// standard deviation, in float32. (The training and evaluation pipeline normalises otherwise:
/// <see cref="Data.DatasetNormalization"/>.)
/// </summary>
public static class ClipImage
{
    public static ReadOnlySpan<float> Mean => [0.48145466f, 0.4578275f, 0.40821073f];

    public static ReadOnlySpan<float> Std => [0.26862954f, 0.26130258f, 0.27577711f];

    /// <summary>The image at its own size as a [1, 3, H, W] tensor, normalised as CLIP's preprocessing does.</summary>
    public static Tensor Normalize(RgbImage image)
    {
        ArgumentNullException.ThrowIfNull(image);
        Tensor tensor = Tensor.Empty([1, 3, image.Height, image.Width]);
        NormalizeInto(image, tensor.AsSpan<float>());
        return tensor;
    }

    /// <summary>The image normalised into <paramref name="planes"/> [3, H, W] (e.g. one item of a batch).</summary>
    public static void NormalizeInto(RgbImage image, Span<float> planes)
    {
        ArgumentNullException.ThrowIfNull(image);
        int plane = image.Width * image.Height;
        if (planes.Length != 3 * plane)
            throw new ArgumentException($"{planes.Length} values do not hold a 3×{image.Height}×{image.Width} image", nameof(planes));
        ReadOnlySpan<byte> pixels = image.Pixels;
        for (int c = 0; c < 3; c++)
        {
            float mean = Mean[c], std = Std[c];
            Span<float> values = planes.Slice(c * plane, plane);
            for (int i = 0; i < plane; i++)
                values[i] = (pixels[i * 3 + c] / 255f - mean) / std;
        }
    }

    /// <summary>
    /// CLIP's <c>Resize(size)</c> + <c>CenterCrop(size)</c> on a PIL image: the short side becomes
    /// <paramref name="size"/> and the long side <c>int(size·long/short)</c> (torchvision's rule, truncating),
    /// resized with PIL's bicubic; then the centre square, its offset <c>round((L − size)/2)</c> with Python's
    /// round-half-to-even. A square input is only resized.
    /// </summary>
    public static RgbImage Preprocess(RgbImage image, int size)
    {
        ArgumentNullException.ThrowIfNull(image);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(size);
        (int width, int height) = ResizedSize(image.Width, image.Height, size);
        RgbImage resized = PilBicubicResize.Resize(image, width, height);
        if (width == size && height == size)
            return resized;
        int left = (int)Math.Round((width - size) / 2.0, MidpointRounding.ToEven);
        int top = (int)Math.Round((height - size) / 2.0, MidpointRounding.ToEven);
        return resized.Crop(left, top, size, size);
    }

    /// <summary>torchvision's <c>Resize(size)</c> target for a <paramref name="width"/>×<paramref name="height"/> picture.</summary>
    public static (int Width, int Height) ResizedSize(int width, int height, int size)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(width);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(height);
        int shortSide = Math.Min(width, height), longSide = Math.Max(width, height);
        int resizedLong = (int)((long)size * longSide / (double)shortSide);
        return width <= height ? (size, resizedLong) : (resizedLong, size);
    }
}
