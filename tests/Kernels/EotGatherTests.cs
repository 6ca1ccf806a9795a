using System.Globalization;
using ReClip.Kernels.Ops;
using ReClip.Runtime.Tensors;
using ReClip.Tests.Support;

namespace ReClip.Tests.Kernels;

[TestFixture]
public sealed class EotGatherTests
{
    // The gather is a linear map of copies; central differences are exact up to the rounding of Σ dy·y.
    private const double FiniteDifferenceTolerance = 1e-4;

    private static IEnumerable<string> Cases() => OpFixture.CasesOf("eot_gather");

    [TestCaseSource(nameof(Cases))]
    public void MatchesPyTorch(string testCase)
    {
        using var fixture = new OpFixture("eot_gather");
        int contextCount = int.Parse(fixture.Describe(testCase).Split("context=")[1], CultureInfo.InvariantCulture);
        using Tensor x = fixture.Load(testCase, "x"), dy = fixture.Load(testCase, "dy"), slots = fixture.Load(testCase, "slots"), expected = fixture.Load(testCase, "indices");
        int[] indices = new int[x.Size(0)];
        EotGather.Indices(slots.AsSpan<int>(), slots.Size(1), contextCount, indices);
        using Tensor y = Tensor.Empty([x.Size(0), x.Size(2)]), dx = Tensor.Empty(x.Shape);
        EotGather.Forward(x, indices, y);
        EotGather.Backward(dy, indices, dx);
        Assert.Multiple(() =>
        {
            Assert.That(indices, Is.EqualTo(expected.AsSpan<int>().ToArray()));
            Assert.That(y.ToFloatArray(), Is.EqualTo(fixture.Values(testCase, "y")));
            Assert.That(dx.ToFloatArray(), Is.EqualTo(fixture.Values(testCase, "dx")));
        });
    }

    [Test]
    public void IndicesFollowTheSpecExamples()
    {
        // Spec §2.2 with M = 73: 1-token name [t, EOT, 0] → 75, 2 tokens [t1, t2, EOT] → 76, and ADE's
        // "chest of drawers" → 76, "skyscraper" → 75, "conveyer belt" → 74; a tie takes the first slot.
        int[] slots = [320, 49407, 0, 1000, 2000, 49407, 10563, 539, 38975, 3075, 11187, 1284, 18421, 2371, 7373, 0, 0, 0];
        int[] indices = new int[6];
        EotGather.Indices(slots, 3, 73, indices);
        Assert.That(indices, Is.EqualTo(new[] { 75, 76, 76, 75, 74, 74 }));
    }

    [Test]
    public void BackwardMatchesFiniteDifferences()
    {
        const int classes = 3, length = 6, width = 4;
        int[] indices = [5, 0, 3];
        var random = new ReClip.Kernels.Checks.RandomTensors(11);
        float[] x = random.Uniform(classes * length * width), dy = random.Uniform(classes * width), y = new float[dy.Length], dx = new float[x.Length];
        double Loss(float[] input)
        {
            EotGather.Reference(input, indices, y, length);
            return FiniteDifference.Dot(y, dy);
        }
        EotGather.BackwardReference(dy, indices, dx, length);
        Assert.Multiple(() =>
        {
            foreach (int i in FiniteDifference.Sample(x.Length, 24))
                Assert.That(dx[i], Is.EqualTo(FiniteDifference.Derivative(x, i, Loss, 1e-2f)).Within(FiniteDifferenceTolerance), $"dx[{i}]");
        });
    }

    [Test]
    public void IndicesAndShapesAreChecked()
    {
        using Tensor x = Tensor.Zeros([2, 5, 3]), y = Tensor.Empty([2, 3]), wrong = Tensor.Empty([3, 2]);
        Assert.Multiple(() =>
        {
            Assert.Throws<ArgumentOutOfRangeException>(() => EotGather.Forward(x, [1, 5], y));
            Assert.Throws<ArgumentException>(() => EotGather.Forward(x, [1], y));
            var error = Assert.Throws<TensorShapeException>(() => EotGather.Forward(x, [1, 2], wrong));
            Assert.That(error!.Message, Does.Contain("EotGather").And.Contain("[3,2]").And.Contain("[2,3]"));
        });
    }
}
