using ReClip.Model.Data;

namespace ReClip.Tests.Model.Data;

[TestFixture]
public sealed class PhotometricDistortionTests
{
    // Values of cv2.cvtColor(COLOR_RGB2HSV) on uint8 for primaries and greys (H in degrees / 2).
    [TestCase(255, 0, 0, 0, 255, 255)]
    [TestCase(0, 255, 0, 60, 255, 255)]
    [TestCase(0, 0, 255, 120, 255, 255)]
    [TestCase(255, 255, 0, 30, 255, 255)]
    [TestCase(128, 128, 128, 0, 0, 128)]
    [TestCase(0, 0, 0, 0, 0, 0)]
    [TestCase(255, 0, 255, 150, 255, 255)]
    public void RgbToHsvMatchesOpenCvOnKnownColours(int r, int g, int b, int h, int s, int v)
    {
        Assert.That(PhotometricDistortion.RgbToHsv((byte)r, (byte)g, (byte)b), Is.EqualTo(((byte)h, (byte)s, (byte)v)));
    }

    [TestCase(false)]
    [TestCase(true)]
    public void HsvRoundTripIsCloseForEveryColourSample(bool vectorBlock)
    {
        // OpenCV's uint8 HSV loses precision: rounding H (2° steps) by half a step moves the middle channel by up to
        // 255/60 ≈ 4.3 levels; rounding S and the final rounding (or truncation, on the vector path) add up to one more.
        const int Tolerance = 6;
        var random = new Random(1);
        for (int i = 0; i < 20000; i++)
        {
            byte r = (byte)random.Next(256), g = (byte)random.Next(256), b = (byte)random.Next(256);
            (byte h, byte s, byte v) = PhotometricDistortion.RgbToHsv(r, g, b);
            Assert.That(h, Is.LessThan(180));
            (byte r2, byte g2, byte b2) = PhotometricDistortion.HsvToRgb(h, s, v, vectorBlock);
            Assert.That(Math.Max(Math.Abs(r - r2), Math.Max(Math.Abs(g - g2), Math.Abs(b - b2))), Is.LessThanOrEqualTo(Tolerance), $"({r}, {g}, {b})");
            // V comes back from v/255·255 in float32: rounded, exactly; truncated, possibly one level below.
            Assert.That(Math.Max(r2, Math.Max(g2, b2)), Is.InRange(vectorBlock ? v - 1 : v, (int)v), "V is kept");
        }
    }

    [Test]
    public void TheVectorBlocksAreEachRowsWhole32PixelRuns()
    {
        Assert.That(Enumerable.Range(0, 48).Count(x => PhotometricDistortion.InVectorBlock(x, 48)), Is.EqualTo(32));
        Assert.That(Enumerable.Range(0, 31).Any(x => PhotometricDistortion.InVectorBlock(x, 31)), Is.False);
        Assert.That(Enumerable.Range(0, 64).All(x => PhotometricDistortion.InVectorBlock(x, 64)), Is.True);
        // H 0, S 1, V 1: g = b = (1/255)·(254/255)·255 ≈ 0.996, which the vector path truncates and the scalar one rounds.
        Assert.That(PhotometricDistortion.HsvToRgb(0, 1, 1, vectorBlock: true), Is.EqualTo(((byte)1, (byte)0, (byte)0)));
        Assert.That(PhotometricDistortion.HsvToRgb(0, 1, 1, vectorBlock: false), Is.EqualTo(((byte)1, (byte)1, (byte)1)));
    }

    [Test]
    public void ConvertClipsThenTruncates()
    {
        byte[] pixels = [0, 100, 250];
        PhotometricDistortion.Convert(pixels, 1, 10.7);
        Assert.That(pixels, Is.EqualTo(new byte[] { 10, 110, 255 }));
        PhotometricDistortion.Convert(pixels, 0.5, 0);
        Assert.That(pixels, Is.EqualTo(new byte[] { 5, 55, 127 }));
    }

    [Test]
    public void DistortionIsSeededAndChangesColoursButNotSize()
    {
        var image = new RgbImage(16, 16);
        for (int i = 0; i < image.Pixels.Length; i++)
            image.Pixels[i] = (byte)(i * 7);
        int changed = 0;
        for (int seed = 0; seed < 20; seed++)
        {
            var a = new RgbImage(16, 16);
            var b = new RgbImage(16, 16);
            image.Pixels.CopyTo(a.Pixels, 0);
            image.Pixels.CopyTo(b.Pixels, 0);
            PhotometricDistortion.Apply(a, new Random(seed));
            PhotometricDistortion.Apply(b, new Random(seed));
            Assert.That(a.Pixels, Is.EqualTo(b.Pixels));
            changed += a.Pixels.SequenceEqual(image.Pixels) ? 0 : 1;
        }
        // Each of the four steps fires with p = 0.5 (contrast once either way), so nearly every seed changes something.
        Assert.That(changed, Is.GreaterThan(15));
    }
}
