using SkiaSharp;
using ReClip.Model.Reports;
using ReClip.Runtime.Tensors;

namespace ReClip.Model.Data;

/// <summary>
/// Pictures of a prediction map: a colour mask (one fixed colour per class id) and an overlay (the image blended
/// with the mask, with a legend of the classes present), written as PNG.
/// </summary>
public static class MaskPicture
{
    /// <summary>The mask's share of each overlay pixel.</summary>
    public const float OverlayOpacity = 0.5f;

    private const int LegendPadding = 6;

    /// <summary>
    /// Class c's colour: c's bits spread over the three channels' high bits, most significant first (the scheme of
    /// the VOC palette, shifted by one so class 0 is not black); distinct for all 255 label values.
    /// </summary>
    public static (byte R, byte G, byte B) Colour(int classId)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(classId);
        int id = classId + 1, r = 0, g = 0, b = 0;
        for (int shift = 7; id > 0; shift--, id >>= 3)
        {
            r |= (id & 1) << shift;
            g |= ((id >> 1) & 1) << shift;
            b |= ((id >> 2) & 1) << shift;
        }
        return ((byte)r, (byte)g, (byte)b);
    }

    /// <summary>The colour mask of prediction ids [H, W] (i32).</summary>
    public static RgbImage Colourize(Tensor prediction)
    {
        ArgumentNullException.ThrowIfNull(prediction);
        if (prediction.Rank != 2 || prediction.DType != DType.I32)
            throw new TensorShapeException($"MaskPicture: prediction {Shape.Format(prediction.Shape)} {prediction.DType} is not i32 [H, W]");
        return Colourize(prediction.AsSpan<int>(), prediction.Size(1), prediction.Size(0), LabelMap.Ignore);
    }

    /// <summary>The colour mask of label ids (row-major, <paramref name="width"/> per row); ids outside [0, <paramref name="classes"/>) stay black.</summary>
    public static RgbImage Colourize(ReadOnlySpan<int> ids, int width, int height, int classes)
    {
        var mask = new RgbImage(width, height);
        Span<byte> pixels = mask.Pixels;
        for (int i = 0; i < ids.Length; i++)
        {
            if ((uint)ids[i] >= (uint)classes) continue;
            (byte r, byte g, byte b) = Colour(ids[i]);
            pixels[3 * i] = r;
            pixels[3 * i + 1] = g;
            pixels[3 * i + 2] = b;
        }
        return mask;
    }

    /// <summary>The class ids that occur in the prediction, ascending.</summary>
    public static int[] Present(Tensor prediction, int classes)
    {
        ArgumentNullException.ThrowIfNull(prediction);
        var seen = new bool[classes];
        foreach (int id in prediction.AsSpan<int>())
            if ((uint)id < (uint)classes) seen[id] = true;
        return [.. Enumerable.Range(0, classes).Where(c => seen[c])];
    }

    /// <summary>
    /// <paramref name="image"/> blended with the mask of <paramref name="prediction"/> (same size), and in the top-left
    /// corner a legend of the classes present: a swatch of each colour and the class name. The caller disposes it.
    /// </summary>
    public static SKBitmap Overlay(RgbImage image, Tensor prediction, IReadOnlyList<string> classNames)
    {
        ArgumentNullException.ThrowIfNull(image);
        ArgumentNullException.ThrowIfNull(classNames);
        RgbImage mask = Colourize(prediction);
        if (mask.Width != image.Width || mask.Height != image.Height)
            throw new ArgumentException($"MaskPicture: prediction {mask.Width}x{mask.Height} does not cover the image {image.Width}x{image.Height}", nameof(prediction));
        var bitmap = new SKBitmap(new SKImageInfo(image.Width, image.Height, SKColorType.Rgba8888, SKAlphaType.Opaque));
        try
        {
            Span<byte> target = bitmap.GetPixelSpan();
            for (int i = 0, j = 0; i < image.Pixels.Length; i += 3, j += 4)
            {
                for (int k = 0; k < 3; k++)
                    target[j + k] = (byte)(image.Pixels[i + k] * (1 - OverlayOpacity) + mask.Pixels[i + k] * OverlayOpacity + 0.5f);
                target[j + 3] = 255;
            }
            using (var canvas = new SKCanvas(bitmap))
                DrawLegend(canvas, Present(prediction, classNames.Count), classNames, image.Height);
            return bitmap;
        }
        catch
        {
            bitmap.Dispose();
            throw;
        }
    }

    /// <summary>One row per class present, scaled with the image so it stays readable on large and small pictures.</summary>
    private static void DrawLegend(SKCanvas canvas, int[] present, IReadOnlyList<string> classNames, int imageHeight)
    {
        float size = Math.Clamp(imageHeight / 30f, 9, 28);
        using SKFont font = ReportFont.Font(size);
        using var fill = new SKPaint { IsAntialias = true };
        float width = present.Length == 0 ? 0 : present.Max(c => font.MeasureText(classNames[c]));
        float row = size * 1.4f;
        fill.Color = new SKColor(0, 0, 0, 160);
        canvas.DrawRect(0, 0, LegendPadding * 3 + size + width, LegendPadding * 2 + row * present.Length, fill);
        for (int i = 0; i < present.Length; i++)
        {
            (byte r, byte g, byte b) = Colour(present[i]);
            float top = LegendPadding + i * row;
            fill.Color = new SKColor(r, g, b);
            canvas.DrawRect(LegendPadding, top + (row - size) / 2, size, size, fill);
            fill.Color = SKColors.White;
            canvas.DrawText(classNames[present[i]], LegendPadding * 2 + size, top + row / 2 + size * 0.35f, SKTextAlign.Left, font, fill);
        }
    }
}
