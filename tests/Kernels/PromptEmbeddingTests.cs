using System.Globalization;
using ReClip.Kernels.Ops;
using ReClip.Runtime.Tensors;
using ReClip.Tests.Support;

namespace ReClip.Tests.Kernels;

[TestFixture]
public sealed class PromptEmbeddingTests
{
    // Each element of x is one float32 addition (token or context row + positional row) on both sides.
    private const double ForwardTolerance = 0;

    // dctx sums C ≤ 20 values in [−1, 1]; PyTorch's reduction order differs from ours: a few ulps of ~√C.
    private const double BackwardTolerance = 1e-5;

    // x is linear in the context, so central differences are exact but for float32 rounding of x (~1e-7·√(C·W)/step).
    private const double FiniteDifferenceTolerance = 1e-3;

    private static IEnumerable<string> Cases() => OpFixture.CasesOf("prompt_embedding");

    [TestCaseSource(nameof(Cases))]
    public void MatchesPyTorch(string testCase)
    {
        using var fixture = new OpFixture("prompt_embedding");
        int startToken = int.Parse(fixture.Describe(testCase).Split("sot=")[1], CultureInfo.InvariantCulture);
        using Tensor embedding = fixture.Load(testCase, "embedding"), context = fixture.Load(testCase, "context"), positional = fixture.Load(testCase, "positional");
        using Tensor slots = fixture.Load(testCase, "slots"), dx = fixture.Load(testCase, "dx");
        int[] slotIds = slots.AsSpan<int>().ToArray();
        using Tensor x = Tensor.Empty(dx.Shape), dContext = Tensor.Empty(context.Shape);
        PromptEmbedding.Forward(embedding, context, slotIds, slots.Size(1), positional, x, startToken);
        PromptEmbedding.Backward(dx, dContext);
        Assert.Multiple(() =>
        {
            Assert.That(x.ToFloatArray(), Is.EqualTo(fixture.Values(testCase, "x")).Within(ForwardTolerance));
            Assert.That(dContext.ToFloatArray(), Is.EqualTo(fixture.Values(testCase, "dcontext")).Within(BackwardTolerance));
        });
    }

    [Test]
    public void BackwardMatchesFiniteDifferences()
    {
        const int classes = 3, contextCount = 4, slotCount = 2, width = 5, vocabulary = 11, length = 1 + contextCount + slotCount;
        var random = new ReClip.Kernels.Checks.RandomTensors(10);
        float[] embedding = random.Uniform(vocabulary * width), context = random.Uniform(contextCount * width), positional = random.Uniform(length * width);
        float[] dx = random.Uniform(classes * length * width), x = new float[dx.Length], dContext = new float[context.Length];
        int[] slotIds = [3, 7, 0, 10, 5, 5];
        double Loss(float[] ctx)
        {
            PromptEmbedding.Reference(embedding, ctx, slotIds, slotCount, positional, x, 9, width);
            return FiniteDifference.Dot(x, dx);
        }
        PromptEmbedding.BackwardReference(dx, dContext, classes, length, width);
        Assert.Multiple(() =>
        {
            foreach (int i in FiniteDifference.Sample(context.Length, 12))
                Assert.That(dContext[i], Is.EqualTo(FiniteDifference.Derivative(context, i, Loss, 1e-2f)).Within(FiniteDifferenceTolerance), $"dcontext[{i}]");
        });
    }

    [Test]
    public void LaysOutStartContextAndSlots()
    {
        // W = 1, table E[v] = v, no positional embedding: x[c] reads as the token ids and context values.
        using Tensor embedding = Tensor.FromSpan<float>([0, 1, 2, 3, 4, 5], [6, 1]), context = Tensor.FromSpan<float>([-1, -2], [2, 1]);
        using Tensor positional = Tensor.Zeros([5, 1]), x = Tensor.Empty([2, 5, 1]);
        PromptEmbedding.Forward(embedding, context, [1, 2, 3, 0], 2, positional, x, startToken: 4);
        Assert.That(x.ToFloatArray(), Is.EqualTo(new float[] { 4, -1, -2, 1, 2, 4, -1, -2, 3, 0 }));
    }

    [Test]
    public void SizesAndIdsAreChecked()
    {
        using Tensor embedding = Tensor.Zeros([6, 2]), context = Tensor.Zeros([2, 2]), positional = Tensor.Zeros([5, 2]), x = Tensor.Empty([2, 5, 2]);
        using Tensor shortPositional = Tensor.Zeros([4, 2]);
        Assert.Multiple(() =>
        {
            var error = Assert.Throws<TensorShapeException>(() => PromptEmbedding.Forward(embedding, context, [1, 2, 3, 0], 2, shortPositional, x, 4));
            Assert.That(error!.Message, Does.Contain("PromptEmbedding").And.Contain("[4,2]").And.Contain("[5,2]"));
            Assert.Throws<ArgumentOutOfRangeException>(() => PromptEmbedding.Forward(embedding, context, [1, 2, 6, 0], 2, positional, x, 4));
            Assert.Throws<ArgumentOutOfRangeException>(() => PromptEmbedding.Forward(embedding, context, [1, 2, 3, 0], 2, positional, x, -1));
            Assert.Throws<ArgumentException>(() => PromptEmbedding.Forward(embedding, context, [1, 2, 3], 2, positional, x, 4));
        });
    }
}
