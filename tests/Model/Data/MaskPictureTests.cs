using SkiaSharp;
using ReClip.Model.Data;
using ReClip.Runtime.Tensors;

namespace ReClip.Tests.Model.Data;

/// <summary>Colour masks and overlays of prediction maps.</summary>
[TestFixture]
public sealed class MaskPictureTests
{
    [Test]
    public void EveryLabelValueHasItsOwnColour()
    {
        var colours = Enumerable.Range(0, LabelMap.Ignore).Select(MaskPicture.Colour).ToList();
        Assert.Multiple(() =>
        {
            Assert.That(colours, Is.Unique);
            Assert.That(colours[0], Is.Not.EqualTo(((byte)0, (byte)0, (byte)0)), "class 0 is not black");
        });
    }

    [Test]
    public void MaskAndOverlayArePngsOfTheImageSize()
    {
        int[] ids = new int[6 * 4];
        for (int i = 0; i < ids.Length; i++) ids[i] = i % 3 == 0 ? 2 : 0;
        using Tensor prediction = Tensor.FromSpan<int>(ids, [4, 6]);
        var image = new RgbImage(6, 4);
        image.Pixels.AsSpan().Fill(100);
        RgbImage mask = MaskPicture.Colourize(prediction);
        string path = Path.Combine(Path.GetTempPath(), $"reclip-overlay-{Guid.NewGuid():N}.png");
        try
        {
            WriteOverlay(path, image, prediction, ["sky", "horse", "grass"]);
            RgbImage overlay = PngFiles.ReadRgb(path);
            (byte r, byte g, byte b) = MaskPicture.Colour(2);
            Assert.Multiple(() =>
            {
                Assert.That((mask.Width, mask.Height, overlay.Width, overlay.Height), Is.EqualTo((6, 4, 6, 4)));
                Assert.That(mask.Pixels[..3], Is.EqualTo(new[] { r, g, b }));
                Assert.That(MaskPicture.Present(prediction, 3), Is.EqualTo(new[] { 0, 2 }));
            });
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Test]
    public void LegendNamesTheClassesPresent()
    {
        using Tensor prediction = Tensor.Zeros([90, 120], DType.I32);
        var image = new RgbImage(120, 90);
        string path = Path.Combine(Path.GetTempPath(), $"reclip-legend-{Guid.NewGuid():N}.png");
        try
        {
            WriteOverlay(path, image, prediction, ["sky", "horse"]);
            RgbImage overlay = PngFiles.ReadRgb(path);
            // Black image, mask of class 0 (128, 0, 0) at half opacity: only the legend's white text is bright in every channel.
            int bright = 0;
            for (int i = 0; i < overlay.Pixels.Length; i += 3)
                if (overlay.Pixels[i] > 200 && overlay.Pixels[i + 1] > 200 && overlay.Pixels[i + 2] > 200) bright++;
            Assert.That(bright, Is.Positive, "the class name is drawn");
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Test]
    public void PredictionOfAnotherSizeIsRefused()
    {
        using Tensor prediction = Tensor.Zeros([3, 3], DType.I32);
        Assert.That(() => MaskPicture.Overlay(new RgbImage(4, 4), prediction, ["a"]), Throws.ArgumentException);
    }

    private static void WriteOverlay(string path, RgbImage image, Tensor prediction, IReadOnlyList<string> classNames)
    {
        using SKBitmap overlay = MaskPicture.Overlay(image, prediction, classNames);
        PngFiles.Write(path, overlay);
    }
}
