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
            MaskPicture.WriteOverlay(path, image, prediction, ["sky", "horse", "grass"]);
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
    public void PredictionOfAnotherSizeIsRefused()
    {
        using Tensor prediction = Tensor.Zeros([3, 3], DType.I32);
        Assert.That(() => MaskPicture.WriteOverlay("unused.png", new RgbImage(4, 4), prediction, ["a"]), Throws.ArgumentException);
    }
}
