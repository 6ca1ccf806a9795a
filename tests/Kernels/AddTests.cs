using ReClip.Kernels.Checks;
using ReClip.Kernels.Ops;
using ReClip.Runtime.Tensors;
using ReClip.Tests.Support;

namespace ReClip.Tests.Kernels;

[TestFixture]
public sealed class AddTests
{
    // A sum of up to 600 values in [−1, 1]: PyTorch's float32 sum against ColumnSum's double one rounded, ~1e-6.
    private const double BiasGradientTolerance = 1e-5;

    // The loss is linear in the bias, so central differences are exact up to float32 rounding of y (~1e-5 at step 1e-2).
    private const double FiniteDifferenceTolerance = 1e-3;

    private static IEnumerable<string> Cases() => OpFixture.CasesOf("add");

    /// <summary>The adds, and a bias's gradient as training computes it (<see cref="ColumnSum"/> over dy's rows).</summary>
    [TestCaseSource(nameof(Cases))]
    public void MatchesPyTorch(string testCase)
    {
        using var fixture = new OpFixture("add");
        using Tensor biased = fixture.Load(testCase, "x"), summed = fixture.Load(testCase, "x");
        using Tensor bias = fixture.Load(testCase, "bias"), residual = fixture.Load(testCase, "residual"), dy = fixture.Load(testCase, "dy");
        using Tensor dbias = Tensor.Empty(bias.Shape);
        Add.Bias(biased, bias);
        Add.Residual(summed, residual);
        using (Tensor rows = dy.Reshape((int)(dy.ElementCount / bias.Size(0)), bias.Size(0)))
            ColumnSum.Forward(rows, dbias);
        Assert.Multiple(() =>
        {
            // One correctly rounded float32 addition on both sides: bit-identical.
            Assert.That(biased.ToFloatArray(), Is.EqualTo(fixture.Values(testCase, "biased")));
            Assert.That(summed.ToFloatArray(), Is.EqualTo(fixture.Values(testCase, "summed")));
            Assert.That(dbias.ToFloatArray(), Is.EqualTo(fixture.Values(testCase, "dbias")).Within(BiasGradientTolerance));
        });
    }

    [Test]
    public void BiasGradientMatchesFiniteDifferences()
    {
        const int rows = 5, width = 9;
        var random = new RandomTensors(7);
        float[] x = random.Uniform(rows * width), bias = random.Uniform(width), dy = random.Uniform(rows * width), dbias = new float[width];
        double Loss(float[] b)
        {
            float[] y = (float[])x.Clone();
            Add.BiasReference(y, b);
            return FiniteDifference.Dot(y, dy);
        }
        ColumnSum.Reference(dy, dbias, rows);
        Assert.Multiple(() =>
        {
            foreach (int i in FiniteDifference.Sample(width, 5))
                Assert.That(dbias[i], Is.EqualTo(FiniteDifference.Derivative(bias, i, Loss, 1e-2f)).Within(FiniteDifferenceTolerance), $"dbias[{i}]");
        });
    }

    [Test]
    public void BiasBroadcastsOverEveryLeadingIndex()
    {
        using Tensor x = Tensor.Zeros([2, 3, 4]), bias = Tensor.FromSpan<float>([1, 2, 3, 4], [4]);
        Add.Bias(x, bias);
        Assert.That(x.ToFloatArray(), Is.EqualTo(Enumerable.Repeat(new float[] { 1, 2, 3, 4 }, 6).SelectMany(v => v)));
    }

    [Test]
    public void ShapeMismatchesNameTheOpAndBothShapes()
    {
        using Tensor x = Tensor.Zeros([2, 3]), bias = Tensor.Zeros([4]), y = Tensor.Zeros([3, 2]);
        Assert.Multiple(() =>
        {
            Assert.That(() => Add.Bias(x, bias), Throws.TypeOf<TensorShapeException>().With.Message.Contain("Add.Bias").And.Message.Contain("[2,3]").And.Message.Contain("[4]"));
            Assert.That(() => Add.Residual(x, y), Throws.TypeOf<TensorShapeException>().With.Message.Contain("Add.Residual").And.Message.Contain("[3,2]"));
        });
    }
}
