using System.Text.Json;
using ReClip.Model.Clip;
using ReClip.Model.Data;
using static ReClip.Tests.Model.Data.ReferenceImages;

namespace ReClip.Tests.Model.Data;

/// <summary>
/// PIL's bicubic resize and CLIP's Resize + CenterCrop against Pillow 9.4's own output
/// (tools/reference/pil_resize_ref.py → tests/fixtures/pil/resize.json). Exact: the same integer arithmetic on
/// the same double-precision weights leaves nothing to tolerate.
/// </summary>
[TestFixture]
public sealed class PilBicubicResizeTests
{
    private static readonly JsonElement Fixture = Load("pil", "resize.json");

    private static IEnumerable<TestCaseData> ResizeCases() =>
        Fixture.GetProperty("resize").EnumerateArray().Select(e => new TestCaseData(e)
            .SetArgDisplayNames($"{Size(e, "source")}->{Size(e, "target")}"));

    private static IEnumerable<TestCaseData> PreprocessCases() =>
        Fixture.GetProperty("preprocess").EnumerateArray().Select(e => new TestCaseData(e)
            .SetArgDisplayNames($"{Size(e, "source")} n={e.GetProperty("size").GetInt32()}"));

    [TestCaseSource(nameof(ResizeCases))]
    public void ResizeEqualsPillowByteForByte(JsonElement expected)
    {
        int[] target = Ints(expected, "target");
        RgbImage actual = PilBicubicResize.Resize(Pattern(Ints(expected, "source")), target[0], target[1]);
        Assert.That((actual.Width, actual.Height), Is.EqualTo((target[0], target[1])));
        AssertSamePixels(actual, expected);
    }

    [TestCaseSource(nameof(PreprocessCases))]
    public void ClipPreprocessingEqualsTorchvisionOnPil(JsonElement expected)
    {
        int size = expected.GetProperty("size").GetInt32();
        RgbImage actual = ClipImage.Preprocess(Pattern(Ints(expected, "source")), size);
        Assert.That((actual.Width, actual.Height), Is.EqualTo((size, size)));
        AssertSamePixels(actual, expected);
    }

    [Test]
    public void ClipNormalizationEqualsTorchvisionsForEveryLevel()
    {
        using var normalized = ClipImage.Normalize(GreyLevels());
        AssertSameLevels(normalized.AsSpan<float>(), Fixture.GetProperty("clip_normalization").GetString()!, "torchvision's");
    }

    [TestCase(500, 375, 224, 298, 224)]
    [TestCase(375, 500, 224, 224, 298)]
    [TestCase(85, 85, 224, 224, 224)]
    [TestCase(50, 31, 24, 38, 24)]
    [TestCase(3, 7, 224, 224, 522)]
    public void ResizedSizeFollowsTorchvisionsShortSideRule(int width, int height, int size, int expectedWidth, int expectedHeight) =>
        Assert.That(ClipImage.ResizedSize(width, height, size), Is.EqualTo((expectedWidth, expectedHeight)));

    [Test]
    public void ASameSizeResizeIsACopy()
    {
        RgbImage source = Pattern([5, 4]);
        RgbImage copy = PilBicubicResize.Resize(source, 5, 4);
        Assert.That(copy, Is.Not.SameAs(source));
        Assert.That(copy.Pixels, Is.EqualTo(source.Pixels));
    }

    private static RgbImage Pattern(int[] size)
    {
        var image = new RgbImage(size[0], size[1]);
        FillPattern(image.Pixels);
        return image;
    }

    private static void AssertSamePixels(RgbImage actual, JsonElement expected) => AssertSameBytes(actual.Pixels, expected, "Pillow");
}
