using System.Security.Cryptography;
using System.Text.Json;
using ReClip.Model.Data;
using static ReClip.Tests.Model.Data.ReferenceImages;

namespace ReClip.Tests.Model.Data;

/// <summary>
/// The OpenCV steps of the authors' pipeline (spec §1.3, §1.4) against OpenCV 4.6's own output
/// (tools/reference/opencv_ref.py → tests/fixtures/opencv/opencv.json). Exact: bilinear and nearest resizes byte for
/// byte, the uint8 colour conversions over every input (all 2²⁴ colours to HSV, all 180·256·256 HSV triples back, in
/// rows of several widths, as OpenCV's vector and scalar paths round differently), and JPEG decoding (SkiaSharp's
/// libjpeg-turbo against <c>cv2.imdecode</c>, baseline and progressive, every chroma subsampling).
/// </summary>
[TestFixture]
public sealed class OpenCvExactnessTests
{
    private const int HueRange = 180;

    private static readonly JsonElement Fixture = Load("opencv", "opencv.json");

    private static IEnumerable<TestCaseData> Cases(string kind) =>
        Fixture.GetProperty(kind).EnumerateArray().Select(e => new TestCaseData(e).SetArgDisplayNames($"{Size(e, "source")}->{Size(e, "target")}"));

    private static IEnumerable<TestCaseData> BilinearCases() => Cases("bilinear");

    private static IEnumerable<TestCaseData> NearestCases() => Cases("nearest");

    private static IEnumerable<TestCaseData> JpegCases() =>
        Fixture.GetProperty("jpeg").EnumerateArray().Select(e => new TestCaseData(e).SetArgDisplayNames(e.GetProperty("file").GetString()!));

    private static IEnumerable<TestCaseData> OrientedJpegCases() =>
        Fixture.GetProperty("oriented_jpeg").EnumerateArray().Select(e => new TestCaseData(e).SetArgDisplayNames(e.GetProperty("file").GetString()!));

    private static IEnumerable<TestCaseData> PhotometricCases() =>
        Fixture.GetProperty("photometric").EnumerateArray().Select(e => new TestCaseData(e)
            .SetArgDisplayNames($"{e.GetProperty("step").GetString()} {e.GetProperty("value").GetRawText()}"));

    private static IEnumerable<TestCaseData> HsvToRgbCases() =>
        Fixture.GetProperty("hsv_to_rgb").EnumerateArray().Select(e => new TestCaseData(e).SetArgDisplayNames($"rows of {e.GetProperty("row_width").GetInt32()}"));

    [TestCaseSource(nameof(BilinearCases))]
    public void BilinearEqualsOpenCvByteForByte(JsonElement expected)
    {
        int[] source = Ints(expected, "source"), target = Ints(expected, "target");
        var image = new RgbImage(source[0], source[1]);
        FillPattern(image.Pixels);
        RgbImage actual = ImageResize.Bilinear(image, target[0], target[1]);
        Assert.That((actual.Width, actual.Height), Is.EqualTo((target[0], target[1])));
        AssertSameBytes(actual.Pixels, expected, "OpenCV");
    }

    [TestCaseSource(nameof(NearestCases))]
    public void NearestEqualsOpenCvByteForByte(JsonElement expected)
    {
        int[] source = Ints(expected, "source"), target = Ints(expected, "target");
        var labels = new LabelMap(source[0], source[1]);
        FillPattern(labels.Labels);
        AssertSameBytes(ImageResize.Nearest(labels, target[0], target[1]).Labels, expected, "OpenCV");
    }

    [TestCaseSource(nameof(JpegCases))]
    public void JpegDecodesAsOpenCvDecodesIt(JsonElement expected)
    {
        RgbImage decoded = PngFiles.ReadRgb(JpegPath(expected));
        int[] size = Ints(expected, "size");
        Assert.That((decoded.Width, decoded.Height), Is.EqualTo((size[0], size[1])));
        AssertSameBytes(decoded.Pixels, expected, "OpenCV");
    }

    /// <summary>
    /// A picture stored with each EXIF orientation: read oriented, it is turned as OpenCV turns it; read as stored, it
    /// is the same pixels in every file, as PIL reads them.
    /// </summary>
    [TestCaseSource(nameof(OrientedJpegCases))]
    public void ExifOrientationTurnsThePictureAsOpenCvDoes(JsonElement expected)
    {
        string path = JpegPath(expected);
        RgbImage seen = PngFiles.ReadRgbOriented(path);
        int[] size = Ints(expected, "size");
        Assert.That((seen.Width, seen.Height), Is.EqualTo((size[0], size[1])));
        AssertSameBytes(seen.Pixels, expected, "OpenCV");
        Assert.That(Digest(PngFiles.ReadRgb(path).Pixels), Is.EqualTo(expected.GetProperty("stored_sha256").GetString()), "the stored pixels, as PIL reads them");
    }

    /// <summary>Each step of the photometric distortion with a fixed draw, against the authors' numpy and OpenCV lines.</summary>
    [TestCaseSource(nameof(PhotometricCases))]
    public void PhotometricStepsEqualTheAuthorsLines(JsonElement expected)
    {
        var image = new RgbImage(75, 41);
        FillPattern(image.Pixels);
        double value = expected.GetProperty("value").GetDouble();
        switch (expected.GetProperty("step").GetString())
        {
            case "brightness": PhotometricDistortion.Convert(image.Pixels, 1, value); break;
            case "contrast": PhotometricDistortion.Convert(image.Pixels, value, 0); break;
            case "saturation": PhotometricDistortion.Saturate(image, value); break;
            default: PhotometricDistortion.ShiftHue(image, (int)value); break;
        }
        AssertSameBytes(image.Pixels, expected, "the authors' lines");
    }

    [Test]
    public void RgbToHsvEqualsOpenCvForEveryColour()
    {
        byte[] hsv = new byte[3 << 24];
        for (int colour = 0; colour < 1 << 24; colour++)
            (hsv[3 * colour], hsv[3 * colour + 1], hsv[3 * colour + 2]) = PhotometricDistortion.RgbToHsv((byte)(colour >> 16), (byte)(colour >> 8), (byte)colour);
        Assert.That(Digest(hsv), Is.EqualTo(Fixture.GetProperty("rgb_to_hsv_sha256").GetString()));
    }

    [TestCaseSource(nameof(HsvToRgbCases))]
    public void HsvToRgbEqualsOpenCvForEveryTripleOnBothPaths(JsonElement expected)
    {
        int width = expected.GetProperty("row_width").GetInt32();
        byte[] rgb = new byte[3 * HueRange << 16];
        for (int triple = 0; triple < HueRange << 16; triple++)
            (rgb[3 * triple], rgb[3 * triple + 1], rgb[3 * triple + 2]) = PhotometricDistortion.HsvToRgb(
                (byte)(triple >> 16), (byte)(triple >> 8), (byte)triple, PhotometricDistortion.InVectorBlock(triple % width, width));
        Assert.That(Digest(rgb), Is.EqualTo(expected.GetProperty("sha256").GetString()));
    }

    [Test]
    public void DatasetNormalizationEqualsOpenCvsArithmeticForEveryLevel()
    {
        using var normalized = DatasetNormalization.Normalize(GreyLevels());
        AssertSameLevels(normalized.AsSpan<float>(), Fixture.GetProperty("dataset_normalization").GetString()!, "OpenCV's");
    }

    [Test]
    public void TheFixtureCameFromOpenCv46() => Assert.That(Fixture.GetProperty("opencv").GetString(), Does.StartWith("4.6."));

    private static string Digest(byte[] bytes) => Convert.ToHexStringLower(SHA256.HashData(bytes));

    private static string JpegPath(JsonElement entry) =>
        Path.Combine(AppContext.BaseDirectory, "fixtures", "opencv", "jpeg", entry.GetProperty("file").GetString()!);
}
