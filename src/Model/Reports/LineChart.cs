using System.Globalization;
using ReClip.Model.Data;
using SkiaSharp;

namespace ReClip.Model.Reports;

/// <summary>One line of a <see cref="LineChart"/>: its name in the legend, its colour and its points in data units.</summary>
public sealed record ChartSeries(string Name, SKColor Color, IReadOnlyList<(double X, double Y)> Points);

/// <summary>
/// A small line chart as a PNG (training loss, validation mIoU): axes with rounded tick values, one polyline per
/// series with a dot at each point, a legend. Non-finite points (an epoch without a loss) are left out.
/// </summary>
public static class LineChart
{
    private const int Width = 720, Height = 420, Left = 70, Right = 20, Top = 40, Bottom = 50, Ticks = 5;

    public static void Write(string path, string title, string xLabel, string yLabel, IReadOnlyList<ChartSeries> series)
    {
        ArgumentNullException.ThrowIfNull(series);
        (double X, double Y)[] all = [.. series.SelectMany(s => s.Points).Where(p => double.IsFinite(p.X) && double.IsFinite(p.Y))];
        if (all.Length == 0)
            throw new ArgumentException($"{path}: no finite point to draw in '{title}'", nameof(series));
        (double xMin, double xMax) = AxisRange(all.Min(p => p.X), all.Max(p => p.X));
        (double yMin, double yMax) = AxisRange(all.Min(p => p.Y), all.Max(p => p.Y));
        float plotWidth = Width - Left - Right, plotHeight = Height - Top - Bottom;
        float Px(double x) => Left + (float)((x - xMin) / (xMax - xMin)) * plotWidth;
        float Py(double y) => Top + plotHeight - (float)((y - yMin) / (yMax - yMin)) * plotHeight;

        using var bitmap = new SKBitmap(new SKImageInfo(Width, Height, SKColorType.Rgba8888, SKAlphaType.Opaque));
        using var canvas = new SKCanvas(bitmap);
        canvas.Clear(SKColors.White);
        using SKFont font = ReportFont.Font(13), titleFont = ReportFont.Font(16);
        using var ink = new SKPaint { Color = SKColors.Black, IsAntialias = true };
        using var grid = new SKPaint { Color = new SKColor(225, 225, 225), StrokeWidth = 1 };
        canvas.DrawText(title, Width / 2f, 24, SKTextAlign.Center, titleFont, ink);
        for (int i = 0; i <= Ticks; i++)
        {
            double x = xMin + (xMax - xMin) * i / Ticks, y = yMin + (yMax - yMin) * i / Ticks;
            canvas.DrawLine(Px(x), Top, Px(x), Top + plotHeight, grid);
            canvas.DrawLine(Left, Py(y), Left + plotWidth, Py(y), grid);
            canvas.DrawText(Label(x), Px(x), Top + plotHeight + 18, SKTextAlign.Center, font, ink);
            canvas.DrawText(Label(y), Left - 6, Py(y) + 4, SKTextAlign.Right, font, ink);
        }
        using (var frame = new SKPaint { Color = SKColors.Black, Style = SKPaintStyle.Stroke })
            canvas.DrawRect(Left, Top, plotWidth, plotHeight, frame);
        canvas.DrawText(xLabel, Left + plotWidth / 2, Height - 10, SKTextAlign.Center, font, ink);
        canvas.Save();
        canvas.RotateDegrees(-90, 16, Top + plotHeight / 2);
        canvas.DrawText(yLabel, 16, Top + plotHeight / 2 + 4, SKTextAlign.Center, font, ink);
        canvas.Restore();

        for (int s = 0; s < series.Count; s++)
        {
            ChartSeries line = series[s];
            using var stroke = new SKPaint { Color = line.Color, StrokeWidth = 2, IsAntialias = true, Style = SKPaintStyle.Stroke };
            using var dot = new SKPaint { Color = line.Color, IsAntialias = true };
            (double X, double Y)[] points = [.. line.Points.Where(p => double.IsFinite(p.X) && double.IsFinite(p.Y))];
            for (int i = 1; i < points.Length; i++)
                canvas.DrawLine(Px(points[i - 1].X), Py(points[i - 1].Y), Px(points[i].X), Py(points[i].Y), stroke);
            foreach ((double x, double y) in points)
                canvas.DrawCircle(Px(x), Py(y), 3, dot);
            float legendY = Top + 16 + s * 18;
            canvas.DrawRect(Left + plotWidth - 150, legendY - 9, 12, 12, dot);
            canvas.DrawText(line.Name, Left + plotWidth - 132, legendY + 2, SKTextAlign.Left, font, ink);
        }
        PngFiles.Write(path, bitmap);
    }

    /// <summary>
    /// The axis range: the data's, widened to whole multiples of a round tick step (1, 2 or 5 times a power of ten)
    /// so that the <see cref="Ticks"/> labels read as plain numbers; ±0.5 around a constant.
    /// </summary>
    internal static (double Min, double Max) AxisRange(double min, double max)
    {
        if (max - min < 1e-12)
            return (min - 0.5, max + 0.5);
        double raw = (max - min) / Ticks, step = Math.Pow(10, Math.Floor(Math.Log10(raw)));
        while (step < raw) step = NextRound(step);
        double low = Math.Floor(min / step) * step;
        while (low + step * Ticks < max)
        {
            step = NextRound(step);
            low = Math.Floor(min / step) * step;
        }
        return (low, low + step * Ticks);
    }

    /// <summary>The round step after <paramref name="step"/> in 1, 2, 5, 10, 20, … (times a power of ten).</summary>
    private static double NextRound(double step)
    {
        double power = Math.Pow(10, Math.Floor(Math.Log10(step) + 1e-9)), mantissa = step / power;
        return mantissa < 1.5 ? 2 * power : mantissa < 3.5 ? 5 * power : 10 * power;
    }

    private static string Label(double value) =>
        value.ToString(Math.Abs(value) >= 100 ? "0" : Math.Abs(value) >= 10 ? "0.#" : "0.###", CultureInfo.InvariantCulture);
}
