using System.Buffers.Binary;
using System.IO.Hashing;
using System.Text;
using ReClip.Model.Data;
using SkiaSharp;

namespace ReClip.Tests.Model.Data;

[TestFixture]
public sealed class IndexedPngTests
{
    private const string Name = "labels/x.png";

    [TestCase(0)]
    [TestCase(1)]
    [TestCase(2)]
    [TestCase(3)]
    [TestCase(4)]
    public void EveryFilterTypeGivesThePaletteIndices(int filter)
    {
        byte[,] samples = TestPng.Pattern(13, 7, 8, filter);
        AssertIndices(IndexedPng.Decode(TestPng.Encode(samples, 8, 3, _ => filter), Name), samples);
    }

    [Test]
    public void FiltersMayChangeFromRowToRow()
    {
        byte[,] samples = TestPng.Pattern(31, 10, 8, 5);
        AssertIndices(IndexedPng.Decode(TestPng.Encode(samples, 8, 3, y => y % 5), Name), samples);
    }

    [TestCase(1, 17)]
    [TestCase(2, 9)]
    [TestCase(4, 5)]
    [TestCase(1, 8)]
    public void SubBytePalettesAreUnpacked(int bitDepth, int width)
    {
        byte[,] samples = TestPng.Pattern(width, 6, bitDepth, bitDepth);
        AssertIndices(IndexedPng.Decode(TestPng.Encode(samples, bitDepth, 3, y => y % 5, paletteSize: 1 << bitDepth), Name), samples);
    }

    [Test]
    public void EightBitGrayscaleGivesItsValues()
    {
        byte[,] samples = TestPng.Pattern(9, 9, 8, 11);
        AssertIndices(IndexedPng.Decode(TestPng.Encode(samples, 8, 0, y => y % 5), Name), samples);
    }

    [Test]
    public void GrayscaleWrittenBySkiaSharpReadsBack()
    {
        var labels = new LabelMap(20, 3);
        for (int i = 0; i < labels.Labels.Length; i++)
            labels.Labels[i] = (byte)(i * 13 % 256);
        string path = Path.Combine(Path.GetTempPath(), $"reclip-indexed-{Guid.NewGuid():N}.png");
        try
        {
            PngFiles.WriteLabels(path, labels);
            Assert.That(IndexedPng.Read(path).Labels, Is.EqualTo(labels.Labels));
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Test]
    public void SkiaSharpTurnsPaletteIndicesIntoColoursWhichIsWhyThisReaderExists()
    {
        byte[,] samples = { { 1, 2, 3 } };
        byte[] png = TestPng.Encode(samples, 8, 3, _ => 0);
        using SKBitmap decoded = SKBitmap.Decode(png);
        Assert.That(decoded.GetPixel(0, 0).Red, Is.Not.EqualTo(1));
        AssertIndices(IndexedPng.Decode(png, Name), samples);
    }

    [Test]
    public void ATruncatedFileIsAnErrorNamingIt()
    {
        byte[] png = TestPng.Encode(TestPng.Pattern(40, 40, 8, 1), 8, 3, _ => 4);
        foreach (int keep in new[] { 4, 20, png.Length / 2, png.Length - 13 })
        {
            var error = Assert.Throws<InvalidDataException>(() => IndexedPng.Decode(png.AsSpan(0, keep), Name));
            Assert.That(error!.Message, Does.StartWith(Name + ": "));
            Assert.That(error.Message, Does.Not.Contain('\n'));
        }
    }

    [Test]
    public void ACorruptChunkFailsItsCrc()
    {
        byte[] png = TestPng.Encode(TestPng.Pattern(8, 8, 8, 1), 8, 3, _ => 0);
        png[8 + 8 + 2] ^= 1; // inside IHDR's width
        Assert.That(() => IndexedPng.Decode(png, Name), Throws.InstanceOf<InvalidDataException>().With.Message.Contains("CRC mismatch in chunk IHDR"));
    }

    [Test]
    public void ImageDataShorterThanTheRowsIsAnError()
    {
        // Valid chunks and CRCs, but the zlib stream holds fewer rows than IHDR promises.
        byte[] shortData = TestPng.Encode(TestPng.Pattern(8, 4, 8, 1), 8, 0, _ => 0);
        BinaryPrimitives.WriteUInt32BigEndian(shortData.AsSpan(16 + 4), 8);
        RewriteCrc(shortData, 8);
        Assert.That(() => IndexedPng.Decode(shortData, Name), Throws.InstanceOf<InvalidDataException>().With.Message.Contains("truncated image data"));
    }

    [Test]
    public void UnknownInterlacingAndColourImagesAreRefusedByName()
    {
        byte[] interlaced = TestPng.Encode(TestPng.Pattern(4, 4, 8, 1), 8, 3, _ => 0, interlace: 2);
        Assert.That(() => IndexedPng.Decode(interlaced, Name), Throws.InstanceOf<InvalidDataException>().With.Message.EqualTo($"{Name}: unknown interlace method 2"));
        byte[] sixteen = TestPng.Encode(TestPng.Pattern(4, 4, 8, 1), 8, 3, _ => 0);
        sixteen[16 + 8] = 16;
        RewriteCrc(sixteen, 8);
        Assert.That(() => IndexedPng.Decode(sixteen, Name), Throws.InstanceOf<InvalidDataException>().With.Message.Contains("colour type 3 at bit depth 16"));
        string over = Path.Combine(AppContext.BaseDirectory, "fixtures", "labels", "gray16_over_255.png");
        Assert.That(() => IndexedPng.Read(over), Throws.InstanceOf<InvalidDataException>()
            .With.Message.EqualTo($"{over}: label value 300 at (1, 0) does not fit the 8 bits of a class index"));
        using var bitmap = new SKBitmap(new SKImageInfo(3, 3, SKColorType.Rgba8888, SKAlphaType.Opaque));
        using SKData rgb = bitmap.Encode(SKEncodedImageFormat.Png, 100);
        Assert.That(() => IndexedPng.Decode(rgb.ToArray(), Name), Throws.InstanceOf<InvalidDataException>().With.Message.Contains("colour type"));
        Assert.That(() => IndexedPng.Decode(Encoding.ASCII.GetBytes("GIF89a....."), Name), Throws.InstanceOf<InvalidDataException>().With.Message.Contains("signature"));
    }

    /// <summary>
    /// Interlaced (Adam7) and 16-bit labels, written by tools/reference/label_pngs.py and read back by Pillow to the same
    /// indices: 13 × 11 leaves passes short and a pass's row or column empty, and every filter type occurs within a pass.
    /// </summary>
    [TestCase("interlaced_gray8.png", 7, 13, 21)]
    [TestCase("interlaced_palette4.png", 1, 2, 16)]
    [TestCase("gray16.png", 5, 3, 21)]
    [TestCase("interlaced_gray16.png", 5, 3, 21)]
    public void LabelsAreReadPixelForPixel(string file, int perColumn, int perRow, int modulus)
    {
        LabelMap labels = IndexedPng.Read(Path.Combine(AppContext.BaseDirectory, "fixtures", "labels", file));
        var expected = new byte[11, 13];
        for (int y = 0; y < 11; y++)
            for (int x = 0; x < 13; x++)
                expected[y, x] = (byte)((perColumn * x + perRow * y) % modulus);
        AssertIndices(labels, expected);
    }

    [Test]
    public void HugeDimensionsAreRefusedBeforeAllocating()
    {
        var png = new MemoryStream();
        png.Write([0x89, (byte)'P', (byte)'N', (byte)'G', 0x0D, 0x0A, 0x1A, 0x0A]);
        var header = new byte[13];
        BinaryPrimitives.WriteUInt32BigEndian(header, 100_000);
        BinaryPrimitives.WriteUInt32BigEndian(header.AsSpan(4), 100_000);
        header[8] = 8;
        header[9] = 3;
        TestPng.Chunk(png, "IHDR", header);
        Assert.That(() => IndexedPng.Decode(png.ToArray(), Name), Throws.InstanceOf<InvalidDataException>().With.Message.Contains("exceeds the limit"));
        // The same header as an RGB image, read through Skia: refused before Skia is asked for the pixels.
        header[9] = 2;
        var rgb = new MemoryStream();
        rgb.Write(png.ToArray().AsSpan(0, 8));
        TestPng.Chunk(rgb, "IHDR", header);
        var pixels = new MemoryStream();
        using (var zlib = new System.IO.Compression.ZLibStream(pixels, System.IO.Compression.CompressionLevel.Fastest, leaveOpen: true))
            zlib.Write(new byte[16]);
        TestPng.Chunk(rgb, "IDAT", pixels.ToArray());
        TestPng.Chunk(rgb, "IEND", []);
        string path = Path.Combine(Path.GetTempPath(), $"reclip-huge-{Guid.NewGuid():N}.png");
        File.WriteAllBytes(path, rgb.ToArray());
        try
        {
            Assert.That(() => PngFiles.ReadRgb(path), Throws.InstanceOf<InvalidDataException>().With.Message.EqualTo($"{path}: 100000x100000 exceeds the limit of {IndexedPng.MaxPixels} pixels"));
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Test]
    public void AMissingFileIsNamed()
    {
        Assert.That(() => IndexedPng.Read("/nonexistent/label.png"), Throws.InstanceOf<FileNotFoundException>().With.Message.Contains("/nonexistent/label.png"));
    }

    private static void RewriteCrc(byte[] png, int chunkStart)
    {
        int length = (int)BinaryPrimitives.ReadUInt32BigEndian(png.AsSpan(chunkStart));
        uint crc = Crc32.HashToUInt32(png.AsSpan(chunkStart + 4, 4 + length));
        BinaryPrimitives.WriteUInt32BigEndian(png.AsSpan(chunkStart + 8 + length), crc);
    }

    private static void AssertIndices(LabelMap labels, byte[,] expected)
    {
        Assert.That(labels.Width, Is.EqualTo(expected.GetLength(1)));
        Assert.That(labels.Height, Is.EqualTo(expected.GetLength(0)));
        for (int y = 0; y < labels.Height; y++)
            for (int x = 0; x < labels.Width; x++)
                Assert.That(labels[x, y], Is.EqualTo(expected[y, x]), $"pixel ({x}, {y})");
    }
}
