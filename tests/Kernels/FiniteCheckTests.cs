using ReClip.Kernels.Ops;
using ReClip.Runtime.Tensors;
using ReClip.Tests.Support;

namespace ReClip.Tests.Kernels;

/// <summary>
/// Which of a step's gradients hold a NaN or an infinity: one flag per tensor, set exactly for those, written into a
/// caller's buffer without a read (so a captured step can hold it) or read back at once; the same answers on a GPU.
/// </summary>
[TestFixture]
public sealed class FiniteCheckTests
{
    private static Tensor[] Gradients(Device device)
    {
        Tensor[] host =
        [
            Tensor.FromSpan<float>([1, -2, 3e38f], [3]),
            Tensor.FromSpan<float>([0, float.NaN, 1], [3]),
            Tensor.Empty([0]),
            Tensor.FromSpan<float>([float.NegativeInfinity], [1]),
            Tensor.Zeros([1000]),
        ];
        if (device.IsCpu)
            return host;
        Tensor[] moved = [.. host.Select(t => t.ToDevice(device))];
        foreach (Tensor t in host) t.Dispose();
        return moved;
    }

    private static readonly bool[] Expected = [false, true, false, true, false];

    [Test]
    public void FlagsMarkTheTensorsWithANanOrAnInfinity()
    {
        Tensor[] gradients = Gradients(Device.Cpu);
        try
        {
            Assert.That(FiniteCheck.NonFinite(gradients), Is.EqualTo(Expected));
            using Tensor flags = Tensor.FromSpan<int>([7, 7, 7, 7, 7], [5]);
            FiniteCheck.Queue(gradients, flags);
            Assert.That(flags.AsSpan<int>().ToArray(), Is.EqualTo(new[] { 0, 1, 0, 1, 0 }), "every flag written, stale values too");
            Assert.That(FiniteCheck.NonFinite([]), Is.Empty);
        }
        finally
        {
            foreach (Tensor g in gradients) g.Dispose();
        }
    }

    [Test]
    public void FlagsMustBeOneI32PerTensor()
    {
        using Tensor g = Tensor.Zeros([4]), floats = Tensor.Zeros([1]), two = Tensor.Zeros([2], DType.I32);
        Assert.That(() => FiniteCheck.Queue([g], floats), Throws.ArgumentException.With.Message.Contains("not i32"));
        Assert.That(() => FiniteCheck.Queue([g], two), Throws.InstanceOf<TensorShapeException>());
    }

    [Test]
    public void TheGpuFlagsTheSameTensors()
    {
        Requires.CudaDevice();
        Tensor[] gradients = Gradients(Device.Cuda());
        try
        {
            Assert.That(FiniteCheck.NonFinite(gradients), Is.EqualTo(Expected));
            using Tensor flags = Tensor.FromSpan<int>([7, 7, 7, 7, 7], [5]).ToDevice(Device.Cuda());
            FiniteCheck.Queue(gradients, flags);
            Assert.That(flags.ToFloatArray(), Is.EqualTo(new float[] { 0, 1, 0, 1, 0 }));
        }
        finally
        {
            foreach (Tensor g in gradients) g.Dispose();
        }
    }
}
