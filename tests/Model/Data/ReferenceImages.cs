using System.Security.Cryptography;
using System.Text.Json;

namespace ReClip.Tests.Model.Data;

/// <summary>
/// What the image fixtures written by tools/reference/pil_resize_ref.py and opencv_ref.py share: their source
/// pattern, their outputs stored in full or as a digest, and their sizes.
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

    public static int[] Ints(JsonElement e, string name) => [.. e.GetProperty(name).EnumerateArray().Select(v => v.GetInt32())];

    public static string Size(JsonElement e, string name) => string.Join('x', Ints(e, name));
}
