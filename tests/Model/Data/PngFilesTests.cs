using ReClip.Model.Data;
using SkiaSharp;

namespace ReClip.Tests.Model.Data;

/// <summary>Pictures read through SkiaSharp as <c>cv2.imread</c> reads them for colour.</summary>
[TestFixture]
public sealed class PngFilesTests
{
    /// <summary>
    /// Regression: any PNG with an alpha channel (a screenshot, an export) was refused as "truncated or corrupt". Its colours
    /// are read as stored and the alpha dropped, as IMREAD_COLOR does, whatever the alpha (0 included).
    /// </summary>
    [Test]
    public void APictureWithAnAlphaChannelReadsItsColoursAsStored()
    {
        string path = Path.Combine(Path.GetTempPath(), $"reclip-rgba-{Guid.NewGuid():N}.png");
        byte[] rgba = [.. Enumerable.Range(0, 4 * 3 * 4).Select(i => (byte)(i * 37 % 256))];
        rgba[3] = 0;
        try
        {
            using (var bitmap = new SKBitmap(new SKImageInfo(4, 3, SKColorType.Rgba8888, SKAlphaType.Unpremul)))
            {
                rgba.CopyTo(bitmap.GetPixelSpan());
                PngFiles.Write(path, bitmap);
            }

            RgbImage image = PngFiles.ReadRgbOriented(path);

            byte[] expected = [.. rgba.Where((_, i) => i % 4 != 3)];
            Assert.That(rgba.Where((_, i) => i % 4 == 3), Has.Some.LessThan(255).And.Some.EqualTo(0), "the test needs translucent pixels");
            Assert.That(image.Pixels, Is.EqualTo(expected));
        }
        finally
        {
            File.Delete(path);
        }
    }
}
