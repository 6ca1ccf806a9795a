using System.Buffers.Binary;
using System.Diagnostics;
using System.IO.Hashing;
using ReClip.Model.Data;
using SkiaSharp;

namespace ReClip.Tests.Model.Data;

/// <summary>
/// Seeded mutation fuzzing of the picture readers: our own palette/grayscale label decoder (IndexedPng) and the
/// RGB reader over SkiaSharp (PNG and JPEG). Mutations are byte flips, truncations, insertions, deletions and hostile
/// values over 32-bit fields; for PNG half the cases then get every chunk CRC recomputed, so that the mutation
/// reaches the decoder behind the CRC check. Every outcome must be a decoded picture or an
/// <see cref="InvalidDataException"/> naming the file; any other exception, a slow case or a huge allocation fails.
/// </summary>
[TestFixture]
public sealed class ImageFileFuzzTests
{
    private const int Seed = 20_261_126, LabelCases = 1500, ImageCases = 250;

    /// <summary>The seeds are a few KB; a second on one means a quadratic scan or an unbounded loop.</summary>
    private static readonly TimeSpan MaxTimePerCase = TimeSpan.FromSeconds(1);

    /// <summary>A 64×48 picture needs kilobytes; 256 MB means a declared size was trusted before the data was checked.</summary>
    private const long MaxAllocatedBytesPerCase = 256L << 20;

    private static readonly uint[] InterestingValues = [0, 1, 0x7f, 0x80, 0xff, 0x7fff, 0xffff, 0x7fff_ffff, 0x8000_0000, 0xffff_ffff];

    private string folder = "";

    [OneTimeSetUp]
    public void CreateFolder() => folder = Directory.CreateTempSubdirectory("reclip-image-fuzz-").FullName;

    [OneTimeTearDown]
    public void DeleteFolder() => Directory.Delete(folder, recursive: true);

    private static byte[,] Pattern(int width, int height, int modulo)
    {
        var values = new byte[height, width];
        for (int y = 0; y < height; y++)
            for (int x = 0; x < width; x++)
                values[y, x] = (byte)((x / 7 + y / 5) % modulo);
        return values;
    }

    private static RgbImage Picture()
    {
        var image = new RgbImage(64, 48);
        for (int y = 0; y < 48; y++)
            for (int x = 0; x < 64; x++)
                image.Set(x, y, (byte)(x * 4), (byte)(y * 5), (byte)((x + y) * 2));
        return image;
    }

    private byte[] Seeded(string name)
    {
        string path = Path.Combine(folder, "seed-" + name);
        switch (name)
        {
            case "palette.png":
                return TestPng.Encode(Pattern(64, 48, 21), 8, 3, y => y % 5);
            case "gray.png":
                return TestPng.Encode(Pattern(64, 48, 150), 8, 0, y => (y + 2) % 5);
            case "rgb.png":
                PngFiles.WriteRgb(path, Picture());
                return File.ReadAllBytes(path);
            default:
                using (SKBitmap bitmap = PngFiles.ToBitmap(Picture()))
                using (SKData jpeg = bitmap.Encode(SKEncodedImageFormat.Jpeg, 90))
                    return jpeg.ToArray();
        }
    }

    private static byte[] Mutate(byte[] seed, Random random, bool png)
    {
        var bytes = new List<byte>(seed);
        Span<byte> field = stackalloc byte[4];
        int mutations = 1 + random.Next(4);
        for (int m = 0; m < mutations && bytes.Count > 8; m++)
        {
            int at = 8 + random.Next(bytes.Count - 8);
            switch (random.Next(5))
            {
                case 0: bytes[at] ^= (byte)(1 << random.Next(8)); break;
                case 1: bytes.RemoveRange(at, bytes.Count - at); break;
                case 2: bytes.InsertRange(at, Enumerable.Range(0, 1 + random.Next(16)).Select(_ => (byte)random.Next(256))); break;
                case 3: bytes.RemoveRange(at, Math.Min(1 + random.Next(16), bytes.Count - at)); break;
                default:
                    if (at + 4 <= bytes.Count)
                    {
                        BinaryPrimitives.WriteUInt32BigEndian(field, InterestingValues[random.Next(InterestingValues.Length)]);
                        for (int i = 0; i < 4; i++) bytes[at + i] = field[i];
                    }
                    break;
            }
        }
        byte[] result = [.. bytes];
        if (png && random.Next(2) == 0)
            FixChunkCrcs(result);
        return result;
    }

    /// <summary>Recomputes each complete chunk's CRC over its type and data, so the mutation is not stopped by the checksum.</summary>
    private static void FixChunkCrcs(byte[] png)
    {
        for (int at = 8; at + 12 <= png.Length;)
        {
            uint length = BinaryPrimitives.ReadUInt32BigEndian(png.AsSpan(at));
            if (length > png.Length - at - 12) return;
            int end = at + 8 + (int)length;
            BinaryPrimitives.WriteUInt32BigEndian(png.AsSpan(end), Crc32.HashToUInt32(png.AsSpan(at + 4, 4 + (int)length)));
            at = end + 4;
        }
    }

    /// <summary>Runs one case; true when it decoded, false when it was refused.</summary>
    private static bool Check(string seed, int index, Action decode)
    {
        long allocated = GC.GetAllocatedBytesForCurrentThread();
        var clock = Stopwatch.StartNew();
        bool decoded = false;
        try
        {
            decode();
            decoded = true;
        }
        catch (InvalidDataException)
        {
            // The expected refusal.
        }
        catch (Exception e) when (e is not AssertionException)
        {
            Assert.Fail($"{seed} case {index} (seed {Seed}): {e.GetType().Name}: {e.Message}");
        }
        Assert.That(clock.Elapsed, Is.LessThan(MaxTimePerCase), $"{seed} case {index} took too long");
        Assert.That(GC.GetAllocatedBytesForCurrentThread() - allocated, Is.LessThan(MaxAllocatedBytesPerCase), $"{seed} case {index} allocated too much");
        return decoded;
    }

    /// <summary>A fuzz run that only ever hits one outcome tests nothing: both must occur.</summary>
    private static void RequireBothOutcomes(string seed, int decoded, int cases)
    {
        TestContext.Out.WriteLine($"{seed}: {decoded} of {cases} mutated files decoded, {cases - decoded} refused");
        Assert.That(decoded, Is.InRange(1, cases - 1), $"{seed}: the mutations must reach both outcomes");
    }

    [TestCase("palette.png")]
    [TestCase("gray.png")]
    public void MutatedLabelPngsDecodeOrAreRefused(string name)
    {
        byte[] seed = Seeded(name);
        Assert.That(IndexedPng.Decode(seed, name).Width, Is.EqualTo(64), "the seed itself decodes");
        var random = new Random(Seed ^ name.GetHashCode(StringComparison.Ordinal) & 0x7fff_ffff);
        int decoded = 0;
        for (int i = 0; i < LabelCases; i++)
        {
            byte[] mutated = Mutate(seed, random, png: true);
            if (Check(name, i, () => IndexedPng.Decode(mutated, name))) decoded++;
        }
        RequireBothOutcomes(name, decoded, LabelCases);
    }

    [TestCase("rgb.png")]
    [TestCase("rgb.jpg")]
    public void MutatedImagesDecodeOrAreRefused(string name)
    {
        byte[] seed = Seeded(name);
        string path = Path.Combine(folder, name);
        var random = new Random(Seed + name.Length);
        int decoded = 0;
        for (int i = 0; i < ImageCases; i++)
        {
            File.WriteAllBytes(path, Mutate(seed, random, png: name.EndsWith(".png", StringComparison.Ordinal)));
            if (Check(name, i, () =>
            {
                try
                {
                    PngFiles.ReadRgb(path);
                }
                catch (InvalidDataException e) when (!e.Message.StartsWith(path, StringComparison.Ordinal))
                {
                    Assert.Fail($"{name} case {i}: the error does not name the file: {e.Message}");
                }
            })) decoded++;
        }
        RequireBothOutcomes(name, decoded, ImageCases);
    }
}
