using SkiaSharp;
using ReClip.Runtime.IO;

namespace ReClip.Model.Data;

/// <summary>
/// Reads and writes dataset pictures with SkiaSharp: RGB images, and label maps as 8-bit grayscale PNGs whose
/// values are class indices. Writes are atomic; a file that does not decode is an error naming it.
/// </summary>
public static class PngFiles
{
    public static void WriteRgb(string path, RgbImage image)
    {
        using SKBitmap bitmap = ToBitmap(image);
        Write(path, bitmap);
    }

    /// <summary>The image as an opaque RGBA Skia bitmap (the caller disposes it).</summary>
    public static SKBitmap ToBitmap(RgbImage image)
    {
        ArgumentNullException.ThrowIfNull(image);
        var bitmap = new SKBitmap(new SKImageInfo(image.Width, image.Height, SKColorType.Rgba8888, SKAlphaType.Opaque));
        Span<byte> target = bitmap.GetPixelSpan();
        for (int i = 0, j = 0; i < image.Pixels.Length; i += 3, j += 4)
        {
            target[j] = image.Pixels[i];
            target[j + 1] = image.Pixels[i + 1];
            target[j + 2] = image.Pixels[i + 2];
            target[j + 3] = 255;
        }
        return bitmap;
    }

    public static void WriteLabels(string path, LabelMap labels)
    {
        ArgumentNullException.ThrowIfNull(labels);
        using var bitmap = new SKBitmap(new SKImageInfo(labels.Width, labels.Height, SKColorType.Gray8, SKAlphaType.Opaque));
        labels.Labels.CopyTo(bitmap.GetPixelSpan());
        Write(path, bitmap);
    }

    /// <summary>The picture as stored, its EXIF orientation ignored (as PIL's <c>Image.open</c> reads it).</summary>
    public static RgbImage ReadRgb(string path)
    {
        using SKBitmap bitmap = Decode(path, SKColorType.Rgba8888, out _);
        return ToRgb(bitmap);
    }

    /// <summary>
    /// The picture as it is meant to be seen: turned or mirrored by its EXIF orientation, as <c>cv2.imread</c> and image
    /// viewers show it (the same bytes as OpenCV for all eight orientations, tests/fixtures/opencv).
    /// </summary>
    public static RgbImage ReadRgbOriented(string path)
    {
        using SKBitmap bitmap = Decode(path, SKColorType.Rgba8888, out SKEncodedOrigin origin);
        return ExifOrientation.Apply(ToRgb(bitmap), origin);
    }

    private static RgbImage ToRgb(SKBitmap bitmap)
    {
        var image = new RgbImage(bitmap.Width, bitmap.Height);
        ReadOnlySpan<byte> source = bitmap.GetPixelSpan();
        for (int i = 0, j = 0; i < image.Pixels.Length; i += 3, j += 4)
        {
            image.Pixels[i] = source[j];
            image.Pixels[i + 1] = source[j + 1];
            image.Pixels[i + 2] = source[j + 2];
        }
        return image;
    }

    /// <summary>
    /// A grayscale label PNG: each pixel's value is its class index. (Palette PNGs such as VOC's need their
    /// palette indices, not colours: <see cref="IndexedPng"/> reads both kinds, and the dataset readers use it.)
    /// </summary>
    public static LabelMap ReadLabels(string path)
    {
        using SKBitmap bitmap = Decode(path, SKColorType.Gray8, out _);
        var labels = new LabelMap(bitmap.Width, bitmap.Height);
        bitmap.GetPixelSpan()[..labels.Labels.Length].CopyTo(labels.Labels);
        return labels;
    }

    private static SKBitmap Decode(string path, SKColorType colorType, out SKEncodedOrigin origin)
    {
        InputFile.RequireFile(path);
        using SKCodec? codec = SKCodec.Create(path, out SKCodecResult created);
        if (codec is null)
            throw new InvalidDataException($"{path}: not a readable image ({created})");
        // The header alone claims the size: a corrupt or hostile one must not make us try to allocate gigabytes.
        if ((long)codec.Info.Width * codec.Info.Height > IndexedPng.MaxPixels)
            throw new InvalidDataException($"{path}: {codec.Info.Width}x{codec.Info.Height} exceeds the limit of {IndexedPng.MaxPixels} pixels");
        origin = codec.EncodedOrigin;
        // A picture with an alpha channel keeps its colours as stored (unpremultiplied) and the caller drops the alpha, as
        // cv2.imread's IMREAD_COLOR does; an opaque target refuses such a source. Gray is opaque in Skia.
        var info = new SKImageInfo(codec.Info.Width, codec.Info.Height, colorType, colorType == SKColorType.Gray8 ? SKAlphaType.Opaque : SKAlphaType.Unpremul);
        var bitmap = new SKBitmap(info);
        SKCodecResult result = codec.GetPixels(info, bitmap.GetPixels());
        if (result != SKCodecResult.Success)
        {
            bitmap.Dispose();
            throw new InvalidDataException($"{path}: the image is truncated or corrupt ({result})");
        }
        return bitmap;
    }

    /// <summary>Any bitmap as a PNG, atomically.</summary>
    public static void Write(string path, SKBitmap bitmap)
    {
        using StagedFile staged = Stage(path, bitmap);
        staged.Commit();
    }

    /// <summary>Any bitmap as a PNG under a temporary name, put in place when the caller commits it.</summary>
    public static StagedFile Stage(string path, SKBitmap bitmap)
    {
        ArgumentNullException.ThrowIfNull(bitmap);
        using SKData data = bitmap.Encode(SKEncodedImageFormat.Png, 100)
            ?? throw new IOException($"{path}: PNG encoding failed");
        return StagedFile.Write(path, stream => data.SaveTo(stream));
    }
}
