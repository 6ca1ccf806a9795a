using ReClip.Kernels.Checks;
using ReClip.Kernels.Ops;
using ReClip.Runtime.Tensors;
using ReClip.Tests.Support;

namespace ReClip.Tests.Kernels;

[TestFixture]
public sealed class Conv2dTests
{
    // float32 on both sides, sums of ≤ 225 products (outputs, dx) or ≤ 84 (dweight, dbias) of O(1): a few ulps.
    private const double Tolerance = 1e-5;

    // The convolution is linear in each argument, so central differences have no truncation error and a
    // large step is exact but for the rounding of the float32 outputs: ≤ ~1e-5 in a loss of ~100 terms.
    private const float Step = 0.5f;
    private const double FiniteDifferenceTolerance = 1e-4;

    private static IEnumerable<string> Cases() => OpFixture.CasesOf("conv2d");

    [TestCaseSource(nameof(Cases))]
    public void MatchesPyTorch(string testCase)
    {
        using var fixture = new OpFixture("conv2d");
        using Tensor x = fixture.Load(testCase, "x"), weight = fixture.Load(testCase, "weight"), bias = fixture.Load(testCase, "bias"), dy = fixture.Load(testCase, "dy");
        using Tensor y = Tensor.Empty(dy.Shape), dx = Tensor.Empty(x.Shape), dweight = Tensor.Empty(weight.Shape), dbias = Tensor.Empty(bias.Shape);
        Conv2d.Forward(x, weight, bias, y);
        Conv2d.Backward(dy, x, weight, dx, dweight, dbias);
        Assert.Multiple(() =>
        {
            Assert.That(y.ToFloatArray(), Is.EqualTo(fixture.Values(testCase, "y")).Within(Tolerance), "y");
            Assert.That(dx.ToFloatArray(), Is.EqualTo(fixture.Values(testCase, "dx")).Within(Tolerance), "dx");
            Assert.That(dweight.ToFloatArray(), Is.EqualTo(fixture.Values(testCase, "dweight")).Within(Tolerance), "dweight");
            Assert.That(dbias.ToFloatArray(), Is.EqualTo(fixture.Values(testCase, "dbias")).Within(Tolerance), "dbias");
        });
    }

    [TestCase(5)]
    [TestCase(1)]
    public void BackwardMatchesFiniteDifferences(int kernel)
    {
        const int batch = 2, inChannels = 3, outChannels = 2, height = 4, width = 5;
        var random = new RandomTensors(9);
        float[] x = random.Uniform(batch * inChannels * height * width), weight = random.Uniform(outChannels * inChannels * kernel * kernel);
        float[] bias = random.Uniform(outChannels), dy = random.Uniform(batch * outChannels * height * width), y = new float[dy.Length];
        double Loss(float[] input, float[] w, float[] b)
        {
            Conv2d.Reference(input, batch, height, width, w, kernel, b, y);
            return FiniteDifference.Dot(y, dy);
        }
        float[] dx = new float[x.Length], dweight = new float[weight.Length], dbias = new float[outChannels];
        Conv2d.BackwardReference(dy, x, batch, height, width, weight, kernel, dx, dweight, dbias);
        Assert.Multiple(() =>
        {
            foreach (int i in FiniteDifference.Sample(x.Length, 15))
                Assert.That(dx[i], Is.EqualTo(FiniteDifference.Derivative(x, i, v => Loss(v, weight, bias), Step)).Within(FiniteDifferenceTolerance), $"dx[{i}]");
            foreach (int i in FiniteDifference.Sample(weight.Length, 15))
                Assert.That(dweight[i], Is.EqualTo(FiniteDifference.Derivative(weight, i, v => Loss(x, v, bias), Step)).Within(FiniteDifferenceTolerance), $"dweight[{i}]");
            for (int i = 0; i < outChannels; i++)
                Assert.That(dbias[i], Is.EqualTo(FiniteDifference.Derivative(bias, i, v => Loss(x, weight, v), Step)).Within(FiniteDifferenceTolerance), $"dbias[{i}]");
        });
    }

    [Test]
    public void GradientsAreComputedOnlyWhenAsked()
    {
        // pe_proj needs dweight and dbias but no dx; a forward without bias adds nothing.
        var random = new RandomTensors(4);
        float[] x = random.Uniform(1 * 6 * 3 * 4), weight = random.Uniform(5 * 6), dy = random.Uniform(1 * 5 * 3 * 4);
        float[] y = new float[dy.Length], dweight = new float[weight.Length], dbias = new float[5];
        Conv2d.Reference(x, 1, 3, 4, weight, 1, [], y);
        Conv2d.BackwardReference(dy, x, 1, 3, 4, weight, 1, [], dweight, dbias);
        using Tensor tx = Tensor.FromSpan<float>(x, [1, 6, 3, 4]), tw = Tensor.FromSpan<float>(weight, [5, 6, 1, 1]), tdy = Tensor.FromSpan<float>(dy, [1, 5, 3, 4]);
        using Tensor ty = Tensor.Empty([1, 5, 3, 4]), tdw = Tensor.Empty([5, 6, 1, 1]), tdb = Tensor.Empty([5]);
        Conv2d.Forward(tx, tw, null, ty);
        Conv2d.Backward(tdy, tx, tw, null, tdw, tdb);
        Assert.Multiple(() =>
        {
            Assert.That(ty.ToFloatArray(), Is.EqualTo(y).Within(Tolerance), "y");
            Assert.That(tdw.ToFloatArray(), Is.EqualTo(dweight).Within(Tolerance), "dweight");
            Assert.That(tdb.ToFloatArray(), Is.EqualTo(dbias).Within(Tolerance), "dbias");
        });
    }

    [Test]
    public void RejectsMismatchedShapes()
    {
        using Tensor x = Tensor.Zeros([1, 4, 5, 5]), weight = Tensor.Zeros([2, 4, 5, 5]), even = Tensor.Zeros([2, 4, 4, 4]), otherInput = Tensor.Zeros([2, 3, 5, 5]);
        using Tensor y = Tensor.Zeros([1, 2, 5, 5]), wrongY = Tensor.Zeros([1, 3, 5, 5]), wrongBias = Tensor.Zeros([3]);
        Assert.Multiple(() =>
        {
            Assert.That(() => Conv2d.Forward(x, even, null, y), Throws.TypeOf<TensorShapeException>().With.Message.Contains("k odd").And.Message.Contains("[2,4,4,4]"));
            Assert.That(() => Conv2d.Forward(x, otherInput, null, y), Throws.TypeOf<TensorShapeException>().With.Message.Contains("[1,4,5,5]").And.Message.Contains("[2,3,5,5]"));
            Assert.That(() => Conv2d.Forward(x, weight, null, wrongY), Throws.TypeOf<TensorShapeException>().With.Message.Contains("Conv2d y").And.Message.Contains("[1,3,5,5]"));
            Assert.That(() => Conv2d.Forward(x, weight, wrongBias, y), Throws.TypeOf<TensorShapeException>().With.Message.Contains("Conv2d bias").And.Message.Contains("[3]"));
            Assert.That(() => Conv2d.Backward(wrongY, x, weight, null, null, null), Throws.TypeOf<TensorShapeException>().With.Message.Contains("Conv2d.Backward dy"));
        });
    }
}
