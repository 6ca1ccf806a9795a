using ReClip.Kernels.Ops;
using ReClip.Runtime.Tensors;

namespace ReClip.Tests.Kernels;

[TestFixture]
public sealed class MatMulTests
{
    [Test]
    public void LinearAppliesTheWeightTransposedAndTheBias()
    {
        using Tensor x = Tensor.FromSpan<float>([1, 2, 3, 4, 5, 6], [2, 3]);
        using Tensor weight = Tensor.FromSpan<float>([1, 0, 0, 0, 1, 1], [2, 3]);
        using Tensor bias = Tensor.FromSpan<float>([10, 20], [2]);
        using Tensor y = Tensor.Empty([2, 2]);
        MatMul.Linear(x, weight, bias, y);
        Assert.That(y.ToFloatArray(), Is.EqualTo(new float[] { 11, 25, 14, 31 }));
    }

    [Test]
    public void MismatchedShapesNameBoth()
    {
        using Tensor x = Tensor.Zeros([2, 3]), weight = Tensor.Zeros([4, 5]), y = Tensor.Zeros([2, 4]);
        var e = Assert.Throws<TensorShapeException>(() => MatMul.Linear(x, weight, null, y));
        Assert.That(e!.Message, Does.Contain("[2,3]").And.Contain("[4,5]"));
        using Tensor b = Tensor.Zeros([4, 2]), c = Tensor.Zeros([2, 2]);
        var chained = Assert.Throws<TensorShapeException>(() => MatMul.Multiply(x, b, c));
        Assert.That(chained!.Message, Does.Contain("[2,3]").And.Contain("[4,2]"));
    }
}
