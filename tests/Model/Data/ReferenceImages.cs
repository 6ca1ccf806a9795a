using System.Runtime.InteropServices;
using System.Security.Cryptography;
using System.Text.Json;
using ReClip.Model.Data;

namespace ReClip.Tests.Model.Data;

/// <summary>
/// What the image fixtures written by tools/reference/pil_resize_ref.py and opencv_ref.py share: their source
/// pattern, their outputs stored in full or as a digest, their sizes, and normalised grey levels.
/// </summary>
internal static class ReferenceImages
{
    public static JsonElement Load(string folder, string file) =>
        JsonDocument.Parse(File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "fixtures", folder, file))).RootElement;

    /// <summary>The scripts' source pattern: byte i of the data is (i · 2654435761 mod 2³²) ≫ 13 mod 256.</summary>
    public static void FillPattern(Span<byte> data)
    {
        for (int i = 0; i < data.Length; i++)
            data[i] = (byte)(((uint)i * 2654435761u) >> 13);
    }

    /// <summary>The bytes against the fixture entry's: in full where it stores them (with a count of those that differ), and by SHA-256.</summary>
    public static void AssertSameBytes(byte[] actual, JsonElement expected, string reference)
    {
        if (expected.TryGetProperty("pixels", out JsonElement pixels))
        {
            byte[] bytes = Convert.FromBase64String(pixels.GetString()!);
            int differing = bytes.Where((b, i) => i >= actual.Length || actual[i] != b).Count();
            Assert.That(actual, Is.EqualTo(bytes), $"{differing} of {bytes.Length} bytes differ from {reference}");
        }
        Assert.That(Convert.ToHexStringLower(SHA256.HashData(actual)), Is.EqualTo(expected.GetProperty("sha256").GetString()), "SHA-256 of the bytes");
    }

    /// <summary>A 256×1 image whose pixel x is grey level x.</summary>
    public static RgbImage GreyLevels()
    {
        var image = new RgbImage(256, 1);
        for (int level = 0; level < 256; level++)
            image.Set(level, 0, (byte)level, (byte)level, (byte)level);
        return image;
    }

    /// <summary>
    /// Normalised planes [3, 256] of <see cref="GreyLevels"/> against a reference's [256, 3] float32 values (base64),
    /// bit for bit.
    /// </summary>
    public static void AssertSameLevels(ReadOnlySpan<float> planes, string base64, string reference)
    {
        ReadOnlySpan<float> expected = MemoryMarshal.Cast<byte, float>(Convert.FromBase64String(base64));
        for (int level = 0; level < 256; level++)
            for (int c = 0; c < 3; c++)
                Assert.That(BitConverter.SingleToInt32Bits(planes[c * 256 + level]), Is.EqualTo(BitConverter.SingleToInt32Bits(expected[level * 3 + c])),
                    $"level {level}, channel {c}: {planes[c * 256 + level]:R} against {reference} {expected[level * 3 + c]:R}");
    }

    public static int[] Ints(JsonElement e, string name) => [.. e.GetProperty(name).EnumerateArray().Select(v => v.GetInt32())];

    public static string Size(JsonElement e, string name) => string.Join('x', Ints(e, name));
}
