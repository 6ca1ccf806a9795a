using ReClip.Runtime.Memory;
using ReClip.Runtime.Tensors;

namespace ReClip.Tests.Runtime;

[TestFixture]
public sealed unsafe class TensorTests
{
    private static float[] Iota(int count) => Enumerable.Range(0, count).Select(i => (float)i).ToArray();

    [Test]
    public void FromSpanKeepsValuesShapeAndContiguousStrides()
    {
        using Tensor t = Tensor.FromSpan<float>(Iota(24), [2, 3, 4]);
        Assert.Multiple(() =>
        {
            Assert.That(t.Shape.ToArray(), Is.EqualTo(new[] { 2, 3, 4 }));
            Assert.That(t.Strides.ToArray(), Is.EqualTo(new long[] { 12, 4, 1 }));
            Assert.That(t.ElementCount, Is.EqualTo(24));
            Assert.That(t.IsContiguous, Is.True);
            Assert.That(t.ToFloatArray(), Is.EqualTo(Iota(24)));
        });
    }

    [Test]
    public void HostStorageIsSixtyFourByteAligned()
    {
        foreach (int count in new[] { 1, 3, 17, 1000, 12345 })
        {
            using Tensor t = Tensor.Empty([count]);
            Assert.That((long)t.Pointer<float>() % HostMemoryPool.Alignment, Is.Zero, $"{count} elements");
        }
    }

    [Test]
    public void TransposeIsAViewAndContiguousCopiesInTheNewOrder()
    {
        using Tensor t = Tensor.FromSpan<float>(Iota(6), [2, 3]);
        using Tensor tt = t.Transpose(0, 1);
        Assert.That(tt.IsContiguous, Is.False);
        Assert.That(tt.Storage, Is.SameAs(t.Storage));
        using Tensor dense = tt.Contiguous();
        Assert.That(dense.Shape.ToArray(), Is.EqualTo(new[] { 3, 2 }));
        Assert.That(dense.ToFloatArray(), Is.EqualTo(new float[] { 0, 3, 1, 4, 2, 5 }));
    }

    [Test]
    public void SliceSharesStorageAndOffsets()
    {
        using Tensor t = Tensor.FromSpan<float>(Iota(12), [3, 4]);
        using Tensor rows = t.Slice(0, 1, 2);
        using Tensor cols = t.Slice(1, 1, 2);
        Assert.Multiple(() =>
        {
            Assert.That(rows.IsContiguous, Is.True);
            Assert.That(rows.ToFloatArray(), Is.EqualTo(new float[] { 4, 5, 6, 7, 8, 9, 10, 11 }));
            Assert.That(cols.IsContiguous, Is.False);
            Assert.That(cols.ToFloatArray(), Is.EqualTo(new float[] { 1, 2, 5, 6, 9, 10 }));
        });
        rows.AsSpan<float>()[0] = -1;
        Assert.That(t.ToFloatArray()[4], Is.EqualTo(-1f), "a slice writes through to its parent");
    }

    [Test]
    public void ReshapeInfersOneDimension()
    {
        using Tensor t = Tensor.FromSpan<float>(Iota(12), [3, 4]);
        using Tensor r = t.Reshape(2, -1, 3);
        Assert.That(r.Shape.ToArray(), Is.EqualTo(new[] { 2, 2, 3 }));
    }

    [Test]
    public void ShapeErrorsNameTheOpAndBothShapes()
    {
        using Tensor t = Tensor.FromSpan<float>(Iota(12), [3, 4]);
        var e = Assert.Throws<TensorShapeException>(() => t.Reshape(5, 3));
        Assert.That(e!.Message, Does.Contain("Reshape").And.Contain("[5,3]").And.Contain("[3,4]"));
        var mismatch = Assert.Throws<TensorShapeException>(() => Shape.Require("LayerNorm", [4], [3]));
        Assert.That(mismatch!.Message, Is.EqualTo("LayerNorm: shape [3] does not match [4]"));
    }

    [Test]
    public void EmptyTensorsAreContiguous()
    {
        using Tensor t = Tensor.Zeros([3, 0, 4]);
        Assert.That(t.IsContiguous, Is.True);
        Assert.That(t.AsSpan<float>().Length, Is.Zero);
    }

    [Test]
    public void ReshapeOfAStridedViewIsRefused()
    {
        using Tensor t = Tensor.FromSpan<float>(Iota(6), [2, 3]);
        using Tensor tt = t.Transpose(0, 1);
        Assert.Throws<InvalidOperationException>(() => tt.Reshape(6));
    }

    [Test]
    public void ViewsKeepStorageAliveAfterTheParentIsDisposed()
    {
        Tensor parent = Tensor.FromSpan<float>(Iota(8), [8]);
        Tensor view = parent.Slice(0, 4, 4);
        parent.Dispose();
        Assert.That(view.Storage.IsReleased, Is.False);
        Assert.That(view.ToFloatArray(), Is.EqualTo(new float[] { 4, 5, 6, 7 }));
        view.Dispose();
        Assert.That(view.Storage.IsReleased, Is.True);
    }

    [Test]
    public void ViewAsReadsTheSameBytesAsAnotherTypeAndHoldsItsOwnReference()
    {
        Tensor buffer = Tensor.Zeros([6], DType.I32);
        Tensor sum = buffer.ViewAs(DType.F32, 0, [2]), flags = buffer.ViewAs(DType.I32, 8, [4]);
        System.Runtime.InteropServices.MemoryMarshal.Cast<float, double>(sum.AsSpan<float>())[0] = 2.5;
        flags.AsSpan<int>()[3] = 1;
        Assert.That(System.Runtime.InteropServices.MemoryMarshal.Cast<int, double>(buffer.AsSpan<int>()[..2])[0], Is.EqualTo(2.5));
        Assert.That(buffer.AsSpan<int>()[5], Is.EqualTo(1));
        buffer.Dispose();
        sum.Dispose();
        Assert.That(flags.Storage.IsReleased, Is.False, "the last view still holds the storage");
        flags.Dispose();
        Assert.That(flags.Storage.IsReleased, Is.True);
    }

    [Test]
    public void ViewAsRefusesBytesOutsideTheTensorOrMisaligned()
    {
        using Tensor buffer = Tensor.Zeros([4], DType.I32);
        using Tensor tail = buffer.Slice(0, 1, 3);
        Assert.That(() => buffer.ViewAs(DType.F32, 8, [3]), Throws.TypeOf<ArgumentOutOfRangeException>().With.Message.Contains("do not fit"));
        Assert.That(() => tail.ViewAs(DType.F32, -4, [1]), Throws.TypeOf<ArgumentOutOfRangeException>(), "not before the tensor's own bytes");
        Assert.That(() => buffer.ViewAs(DType.I32, 2, [1]), Throws.ArgumentException.With.Message.Contains("not aligned"));
        using Tensor inner = tail.ViewAs(DType.F32, 4, [2]);
        Assert.That(inner.Offset, Is.EqualTo(2), "offsets count from the view's first byte");
    }

    [Test]
    public void DisposedTensorRefusesAccess()
    {
        Tensor t = Tensor.Zeros([4]);
        t.Dispose();
        t.Dispose();
        Assert.Throws<ObjectDisposedException>(() => t.AsSpan<float>());
    }

    [Test]
    public void TypedAccessChecksTheDType()
    {
        using Tensor t = Tensor.Zeros([4], DType.I32);
        var e = Assert.Throws<InvalidOperationException>(() => t.AsSpan<float>());
        Assert.That(e!.Message, Does.Contain("i32"));
        Assert.That(t.AsSpan<int>().Length, Is.EqualTo(4));
    }

    [Test]
    public void ToFloatArrayWidensEveryDType()
    {
        using Tensor half = Tensor.FromSpan<Half>([(Half)1.5f, (Half)(-2f)], [2]);
        using Tensor brain = Tensor.FromSpan<BFloat16>([(BFloat16)3.25f, (BFloat16)(-0.5f)], [2]);
        using Tensor ints = Tensor.FromSpan<int>([7, -9], [2]);
        using Tensor bytes = Tensor.FromSpan<byte>([0, 255], [2]);
        Assert.Multiple(() =>
        {
            Assert.That(half.ToFloatArray(), Is.EqualTo(new[] { 1.5f, -2f }));
            Assert.That(brain.ToFloatArray(), Is.EqualTo(new[] { 3.25f, -0.5f }));
            Assert.That(ints.ToFloatArray(), Is.EqualTo(new[] { 7f, -9f }));
            Assert.That(bytes.ToFloatArray(), Is.EqualTo(new[] { 0f, 255f }));
        });
    }

    [Test]
    public void ToDeviceOnTheSameDeviceCopies()
    {
        using Tensor t = Tensor.FromSpan<float>(Iota(4), [4]);
        using Tensor copy = t.ToDevice(Device.Cpu);
        Assert.That(copy.Storage, Is.Not.SameAs(t.Storage));
        Assert.That(copy.ToFloatArray(), Is.EqualTo(Iota(4)));
    }

    [TestCase("cpu", DeviceKind.Cpu, 0)]
    [TestCase("cuda", DeviceKind.Cuda, 0)]
    [TestCase("CUDA:3", DeviceKind.Cuda, 3)]
    public void DeviceParses(string text, DeviceKind kind, int index)
    {
        Device device = Device.Parse(text);
        Assert.That((device.Kind, device.Index), Is.EqualTo((kind, index)));
    }

    [TestCase("gpu")]
    [TestCase("cuda:-1")]
    [TestCase("cuda:x")]
    public void DeviceRejectsUnknownNames(string text) =>
        Assert.That(() => Device.Parse(text), Throws.InstanceOf<FormatException>().With.Message.Contain(text));
}
