using ReClip.Model.Data;
using ReClip.Model.Reports;
using SkiaSharp;

namespace ReClip.Tests.Model.Reports;

[TestFixture]
public sealed class LineChartTests
{
    private string folder = null!;

    [SetUp]
    public void Create() => Directory.CreateDirectory(folder = Path.Combine(Path.GetTempPath(), $"reclip-chart-{Guid.NewGuid():N}"));

    [TearDown]
    public void Remove() => Directory.Delete(folder, recursive: true);

    private static int Count(RgbImage image, Func<byte, byte, byte, bool> match)
    {
        int count = 0;
        for (int i = 0; i < image.Pixels.Length; i += 3)
            if (match(image.Pixels[i], image.Pixels[i + 1], image.Pixels[i + 2])) count++;
        return count;
    }

    /// <summary>The embedded font renders (Skia's own default draws nothing here), and each series' colour is on the picture.</summary>
    [Test]
    public void DrawsTextAxesAndEverySeries()
    {
        string path = Path.Combine(folder, "chart.png");
        LineChart.Write(path, "validation mIoU", "epoch", "mIoU",
        [
            new ChartSeries("ReCLIP++", new SKColor(220, 40, 40), [(0, 0.31), (1, 0.42), (2, double.NaN), (3, 0.47)]),
            new ChartSeries("MaskCLIP", new SKColor(40, 40, 220), [(0, 0.30), (3, 0.30)]),
        ]);
        RgbImage chart = PngFiles.ReadRgb(path);
        Assert.That((chart.Width, chart.Height), Is.EqualTo((720, 420)));
        Assert.That(Count(chart, (r, g, b) => r == 220 && g == 40 && b == 40), Is.GreaterThan(100), "red series");
        Assert.That(Count(chart, (r, g, b) => r == 40 && g == 40 && b == 220), Is.GreaterThan(100), "blue series");
        var title = new RgbImage(720, 36);
        Array.Copy(chart.Pixels, title.Pixels, title.Pixels.Length);
        Assert.That(Count(title, (r, g, b) => r < 100 && g < 100 && b < 100), Is.GreaterThan(50), "title text drawn");
    }

    /// <summary>Axis ranges end on round ticks (1, 2 or 5 times a power of ten) and hold the data.</summary>
    [TestCase(0.0, 31.0, 0.0, 50.0)]
    [TestCase(7.874, 19.68, 5.0, 30.0)]
    [TestCase(1.0, 30.0, 0.0, 50.0)]
    [TestCase(0.08, 0.2, 0.05, 0.3)]
    public void AxisRangesEndOnRoundTicks(double min, double max, double low, double high)
    {
        (double Min, double Max) range = LineChart.AxisRange(min, max);
        Assert.That(range.Min, Is.EqualTo(low).Within(1e-9));
        Assert.That(range.Max, Is.EqualTo(high).Within(1e-9));
    }

    [Test]
    public void NoFinitePointIsAnError()
    {
        string path = Path.Combine(folder, "empty.png");
        Assert.Throws<ArgumentException>(() => LineChart.Write(path, "t", "x", "y", [new ChartSeries("s", SKColors.Red, [(0, double.NaN)])]));
        Assert.That(File.Exists(path), Is.False);
    }
}
