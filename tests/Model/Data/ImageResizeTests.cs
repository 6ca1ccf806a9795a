using ReClip.Model.Data;
using ReClip.Model.Data.Datasets;

namespace ReClip.Tests.Model.Data;

[TestFixture]
public sealed class ImageResizeTests
{
    [Test]
    public void BilinearUsesHalfPixelCentresClampedAtTheBorder()
    {
        // Upscaling [0, 100] to 4 pixels samples at x = −0.25 (clamped to 0), 0.25, 0.75, 1.25 (clamped to 1).
        Assert.That(Row(ImageResize.Bilinear(Gray(0, 100), 4, 1)), Is.EqualTo(new byte[] { 0, 25, 75, 100 }));
        // Halving samples between pixels (x = 0.5, 2.5), not at 0 and 2 as a corner-aligned resize would.
        Assert.That(Row(ImageResize.Bilinear(Gray(0, 100, 200, 250), 2, 1)), Is.EqualTo(new byte[] { 50, 225 }));
    }

    [Test]
    public void BilinearRoundsToNearestAndKeepsASameSizeImage()
    {
        // 3 → 2 pixels: x = 0.25 and 1.75 give 0 + 0.25·11 = 2.75 → 3 and 11 + 0.75·(12 − 11) = 11.75 → 12.
        Assert.That(Row(ImageResize.Bilinear(Gray(0, 11, 12), 2, 1)), Is.EqualTo(new byte[] { 3, 12 }));
        RgbImage image = Gray(1, 2, 3);
        Assert.That(ImageResize.Bilinear(image, 3, 1).Pixels, Is.EqualTo(image.Pixels));
    }

    [Test]
    public void BilinearBlendsRowsAndChannelsSeparately()
    {
        var image = new RgbImage(1, 2);
        image.Set(0, 0, 0, 100, 200);
        image.Set(0, 1, 100, 100, 0);
        RgbImage tall = ImageResize.Bilinear(image, 1, 4);
        Assert.That(tall.Pixels, Is.EqualTo(new byte[] { 0, 100, 200, 25, 100, 150, 75, 100, 50, 100, 100, 0 }));
    }

    [TestCase(7, 5, 13, 11)]
    [TestCase(7, 5, 4, 3)]
    [TestCase(7, 5, 7, 5)]
    [TestCase(14, 10, 7, 5)]
    public void AWindowOfTheResizeIsTheSameBytesAsTheResizeCropped(int sourceWidth, int sourceHeight, int width, int height)
    {
        var random = new Random(sourceWidth * 100 + width);
        var image = new RgbImage(sourceWidth, sourceHeight);
        random.NextBytes(image.Pixels);
        RgbImage whole = ImageResize.Bilinear(image, width, height);
        for (int trial = 0; trial < 20; trial++)
        {
            int left = random.Next(width), top = random.Next(height);
            int windowWidth = random.Next(1, width - left + 1), windowHeight = random.Next(1, height - top + 1);
            Assert.That(ImageResize.BilinearWindow(image, width, height, left, top, windowWidth, windowHeight).Pixels,
                Is.EqualTo(whole.Crop(left, top, windowWidth, windowHeight).Pixels), $"{windowWidth}x{windowHeight} at ({left}, {top})");
        }
        Assert.That(() => ImageResize.BilinearWindow(image, width, height, 1, 0, width, height),
            Throws.TypeOf<ArgumentOutOfRangeException>().With.Message.Contains($"is not inside the {width}x{height} resize"));
    }

    [Test]
    public void NearestFollowsOpenCvsFloorRule()
    {
        var labels = new LabelMap(3, 1);
        labels.Labels[0] = 7;
        labels.Labels[1] = 8;
        labels.Labels[2] = 9;
        // 3 → 5: floor(dx · 0.6) = 0, 0, 1, 1, 2 (a half-pixel rule would give 0, 1, 1, 2, 2).
        Assert.That(ImageResize.Nearest(labels, 5, 1).Labels, Is.EqualTo(new byte[] { 7, 7, 8, 8, 9 }));
        // 3 → 2: floor(dx · 1.5) = 0, 1.
        Assert.That(ImageResize.Nearest(labels, 2, 1).Labels, Is.EqualTo(new byte[] { 7, 8 }));
    }

    [TestCase(500, 375, 2048, 336, 448, 336)]
    [TestCase(2048, 1024, 2048, 448, 896, 448)]
    [TestCase(375, 500, 2048, 512, 512, 683)]
    [TestCase(5000, 500, 2048, 512, 2048, 205)]
    public void KeepRatioSizeFollowsMmseg(int width, int height, int scaleLong, int scaleShort, int expectedWidth, int expectedHeight)
    {
        Assert.That(ImageResize.KeepRatioSize(width, height, scaleLong, scaleShort), Is.EqualTo((expectedWidth, expectedHeight)));
    }

    [Test]
    public void EvaluationResizesToThePresetsShortSide()
    {
        RgbImage resized = EvaluationPreprocessing.Resize(new RgbImage(500, 375), DatasetPreset.Voc);
        Assert.That((resized.Width, resized.Height), Is.EqualTo((448, 336)));
    }

    private static RgbImage Gray(params byte[] values)
    {
        var image = new RgbImage(values.Length, 1);
        for (int x = 0; x < values.Length; x++)
            image.Set(x, 0, values[x], values[x], values[x]);
        return image;
    }

    private static byte[] Row(RgbImage image) => [.. Enumerable.Range(0, image.Width).Select(x => image.Pixels[x * 3])];
}
