using ReClip.Kernels.Ops;
using ReClip.Runtime.Tensors;

namespace ReClip.Tests.Kernels;

/// <summary>The plane transpose on views (the mask decoder's channel ranges) and what it refuses.</summary>
[TestFixture]
public sealed class PlaneTransposeTests
{
    [Test]
    public void AChannelRangeIsFilledAndReadBackInPlace()
    {
        using Tensor features = Tensor.FromSpan<float>([1, 2, 3, 4, 5, 6], [1, 3, 2]), input = Tensor.Zeros([1, 4, 3]);
        using Tensor channels = input.Slice(1, 1, 2), back = Tensor.Empty([1, 3, 2]);
        PlaneTranspose.Forward(features, channels);
        Assert.That(input.ToFloatArray(), Is.EqualTo(new float[] { 0, 0, 0, 1, 3, 5, 2, 4, 6, 0, 0, 0 }));
        PlaneTranspose.Forward(channels, back);
        Assert.That(back.ToFloatArray(), Is.EqualTo(features.ToFloatArray()));
    }

    [Test]
    public void ViewsWithoutContiguousRowsAndWrongShapesAreRefused()
    {
        using Tensor source = Tensor.Zeros([1, 3, 2]), wide = Tensor.Zeros([1, 2, 6]), ints = Tensor.Zeros([1, 2, 3], DType.I32);
        using Tensor strided = wide.Transpose(1, 2), destination = Tensor.Empty([1, 2, 3]), sameShape = Tensor.Empty([1, 3, 2]);
        using Tensor forStrided = Tensor.Empty([1, 2, 6]), matrix = Tensor.Zeros([3, 2]);
        Assert.Multiple(() =>
        {
            Assert.That(() => PlaneTranspose.Forward(strided, forStrided), Throws.ArgumentException.With.Message.Contains("not contiguous"));
            Assert.That(() => PlaneTranspose.Forward(source, sameShape), Throws.InstanceOf<TensorShapeException>());
            Assert.That(() => PlaneTranspose.Forward(source, ints), Throws.ArgumentException.With.Message.Contains("float32"));
            Assert.That(() => PlaneTranspose.Forward(matrix, destination), Throws.InstanceOf<TensorShapeException>().With.Message.Contains("[P, R, C]"));
        });
    }
}
