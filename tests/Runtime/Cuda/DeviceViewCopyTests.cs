using ReClip.Runtime.Tensors;
using ReClip.Tests.Support;

namespace ReClip.Tests.Runtime.Cuda;

/// <summary>Strided views of GPU tensors read, cloned and filled through host staging (skipped without a GPU).</summary>
[TestFixture]
public sealed class DeviceViewCopyTests
{
    private static readonly float[] Values = [.. Enumerable.Range(0, 2 * 3 * 12).Select(i => i * 0.5f - 7)];

    [Test]
    public void AColumnBlockOfAGpuTensorReadsAsOnTheCpu()
    {
        Requires.CudaDevice();
        using Tensor host = Tensor.FromSpan<float>(Values, [2, 3, 12]);
        using Tensor gpu = host.ToDevice(Device.Cuda(0));
        using Tensor hostBlock = host.Slice(2, 4, 4), gpuBlock = gpu.Slice(2, 4, 4);
        Assert.That(gpuBlock.ToFloatArray(), Is.EqualTo(hostBlock.ToFloatArray()), "ToDevice(Cpu) of a strided view");
        using Tensor contiguous = gpuBlock.Contiguous();
        Assert.That(contiguous.Device, Is.EqualTo(Device.Cuda(0)));
        Assert.That(contiguous.IsContiguous, Is.True);
        Assert.That(contiguous.ToFloatArray(), Is.EqualTo(hostBlock.ToFloatArray()), "Contiguous() stays on the GPU");
        using Tensor transposed = gpu.Transpose(0, 2), hostTransposed = host.Transpose(0, 2);
        Assert.That(transposed.ToFloatArray(), Is.EqualTo(hostTransposed.ToFloatArray()), "a transposed view");
    }

    [Test]
    public void FillingAGpuViewLeavesTheElementsAroundItAlone()
    {
        Requires.CudaDevice();
        using Tensor host = Tensor.FromSpan<float>(Values, [2, 3, 12]);
        using Tensor gpu = host.ToDevice(Device.Cuda(0));
        using Tensor block = gpu.Slice(2, 4, 4);
        using Tensor ones = Tensor.FromSpan<float>(Enumerable.Repeat(1f, 2 * 3 * 4).ToArray(), [2, 3, 4]).ToDevice(Device.Cuda(0));
        block.CopyFrom(ones);
        float[] expected = (float[])Values.Clone();
        for (int row = 0; row < 6; row++)
            Array.Fill(expected, 1f, row * 12 + 4, 4);
        Assert.That(gpu.ToFloatArray(), Is.EqualTo(expected));
    }
}
