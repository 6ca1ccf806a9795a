using ReClip.Kernels.Ops;
using ReClip.Runtime.Tensors;
using ReClip.Tests.Support;

namespace ReClip.Tests.Kernels;

[TestFixture]
public sealed class PatchEmbeddingTests
{
    // float32 dot products of Cin·P·P ≤ 768 O(1) terms on both sides, in different orders: a few ulps of O(1) tokens.
    private const double Tolerance = 1e-5;

    private static IEnumerable<string> Cases() => OpFixture.CasesOf("patchembedding");

    [TestCaseSource(nameof(Cases))]
    public void MatchesPyTorch(string testCase)
    {
        using var fixture = new OpFixture("patchembedding");
        using Tensor image = fixture.Load(testCase, "image"), weight = fixture.Load(testCase, "weight");
        using Tensor tokens = Tensor.Empty(fixture.Shape(testCase, "tokens"));
        PatchEmbedding.Forward(image, weight, tokens);
        Assert.That(tokens.ToFloatArray(), Is.EqualTo(fixture.Values(testCase, "tokens")).Within(Tolerance));
    }

    [TestCase(224, 224, 16, 14, 14)]
    [TestCase(336, 448, 16, 21, 28)]
    [TestCase(375, 500, 16, 24, 32)]
    [TestCase(1, 17, 16, 1, 2)]
    public void GridRoundsUp(int height, int width, int patch, int rows, int columns) =>
        Assert.That(PatchEmbedding.Grid(height, width, patch), Is.EqualTo((rows, columns)));

    [Test]
    public void ImageSmallerThanOnePatchIsOneZeroPaddedToken()
    {
        var random = new ReClip.Kernels.Checks.RandomTensors(3);
        float[] image = random.Uniform(2 * 3 * 5 * 3), weight = random.Uniform(4 * 3 * 8 * 8);
        float[] expected = new float[2 * 4];
        PatchEmbedding.Reference(image, 2, 5, 3, weight, 4, 8, expected);
        using Tensor x = Tensor.FromSpan<float>(image, [2, 3, 5, 3]), w = Tensor.FromSpan<float>(weight, [4, 3, 8, 8]), tokens = Tensor.Empty([2, 1, 4]);
        PatchEmbedding.Forward(x, w, tokens);
        Assert.That(tokens.ToFloatArray(), Is.EqualTo(expected).Within(Tolerance));
    }

    [Test]
    public void RejectsMismatchedShapes()
    {
        using Tensor image = Tensor.Zeros([1, 3, 20, 20]), weight = Tensor.Zeros([8, 3, 16, 16]);
        using Tensor wrongTokens = Tensor.Zeros([1, 4, 7]), wrongChannels = Tensor.Zeros([8, 1, 16, 16]), tokens = Tensor.Zeros([1, 4, 8]);
        Assert.Multiple(() =>
        {
            Assert.That(() => PatchEmbedding.Forward(image, weight, wrongTokens),
                Throws.TypeOf<TensorShapeException>().With.Message.Contains("PatchEmbedding tokens").And.Message.Contains("[1,4,7]").And.Message.Contains("[1,4,8]"));
            Assert.That(() => PatchEmbedding.Forward(image, wrongChannels, tokens),
                Throws.TypeOf<TensorShapeException>().With.Message.Contains("[1,3,20,20]").And.Message.Contains("[8,1,16,16]"));
        });
    }
}
