using ReClip.Model.Data;
using ReClip.Runtime.Tensors;
using SkiaSharp;

namespace ReClip.Model.Reports;

/// <summary>A panel of a <see cref="SegmentationStrip"/>: its caption and its pixels (an image, or label ids as colours).</summary>
public sealed record StripPanel(string Caption, RgbImage Pixels)
{
    /// <summary>Label ids [H, W] (i32) in <see cref="MaskPicture"/>'s class colours; ids outside the classes (ignore) are black.</summary>
    public static StripPanel OfLabels(string caption, ReadOnlySpan<int> ids, int width, int height, int classes) =>
        new(caption, MaskPicture.Colourize(ids, width, height, classes));

    public static StripPanel OfLabels(string caption, LabelMap labels, int classes)
    {
        ArgumentNullException.ThrowIfNull(labels);
        int[] ids = [.. labels.Labels.Select(v => (int)v)];
        return OfLabels(caption, ids, labels.Width, labels.Height, classes);
    }

    public static StripPanel OfPrediction(string caption, Tensor prediction, int classes)
    {
        ArgumentNullException.ThrowIfNull(prediction);
        return OfLabels(caption, prediction.AsSpan<int>(), prediction.Size(1), prediction.Size(0), classes);
    }
}

/// <summary>
/// Panels side by side with a caption over each (image | ground truth | MaskCLIP | ReCLIP++), scaled up by an integer
/// factor with nearest-neighbour sampling so that label edges stay hard, over a legend of every class colour.
/// </summary>
public static class SegmentationStrip
{
    private const int Gap = 8, CaptionHeight = 22, LegendRow = 18, LegendColumn = 130;

    public static void Write(string path, IReadOnlyList<StripPanel> panels, IReadOnlyList<string> classNames, int scale = 2)
    {
        ArgumentNullException.ThrowIfNull(panels);
        ArgumentNullException.ThrowIfNull(classNames);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(scale);
        if (panels.Count == 0)
            throw new ArgumentException($"{path}: no panel to draw", nameof(panels));
        int panelWidth = panels.Max(p => p.Pixels.Width) * scale, panelHeight = panels.Max(p => p.Pixels.Height) * scale;
        int width = panels.Count * (panelWidth + Gap) + Gap;
        int columns = Math.Max(1, (width - Gap) / LegendColumn), rows = (classNames.Count + columns - 1) / columns;
        int height = CaptionHeight + panelHeight + Gap + rows * LegendRow + Gap;
        using var bitmap = new SKBitmap(new SKImageInfo(width, height, SKColorType.Rgba8888, SKAlphaType.Opaque));
        using (var canvas = new SKCanvas(bitmap))
        {
            canvas.Clear(SKColors.White);
            using SKFont font = ReportFont.Font(13);
            using var ink = new SKPaint { Color = SKColors.Black, IsAntialias = true };
            for (int p = 0; p < panels.Count; p++)
            {
                int left = Gap + p * (panelWidth + Gap);
                canvas.DrawText(panels[p].Caption, left + panelWidth / 2f, CaptionHeight - 6, SKTextAlign.Center, font, ink);
                using SKBitmap pixels = PngFiles.ToBitmap(panels[p].Pixels);
                using SKImage picture = SKImage.FromBitmap(pixels);
                canvas.DrawImage(picture, SKRect.Create(left, CaptionHeight, panels[p].Pixels.Width * scale, panels[p].Pixels.Height * scale),
                    new SKSamplingOptions(SKFilterMode.Nearest));
            }
            for (int c = 0; c < classNames.Count; c++)
            {
                float x = Gap + c % columns * LegendColumn, y = CaptionHeight + panelHeight + Gap + c / columns * LegendRow;
                (byte r, byte g, byte b) = MaskPicture.Colour(c);
                using var swatch = new SKPaint { Color = new SKColor(r, g, b) };
                canvas.DrawRect(x, y, 12, 12, swatch);
                canvas.DrawText(classNames[c], x + 16, y + 11, SKTextAlign.Left, font, ink);
            }
        }
        PngFiles.Write(path, bitmap);
    }
}
