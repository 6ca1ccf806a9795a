using ReClip.Runtime.Cuda;
using ReClip.Runtime.Memory;
using ReClip.Runtime.Tensors;
using ReClip.Tests.Support;

namespace ReClip.Tests.Runtime.Cuda;

[TestFixture]
public sealed class NativeLibraryTests
{
    private const string SaxpySource = """
        extern "C" __global__ void saxpy(float a, const float* x, float* y, int n)
        {
            int i = blockIdx.x * blockDim.x + threadIdx.x;
            if (i < n) y[i] = a * x[i] + y[i];
        }
        """;

    [Test]
    public void NvrtcCompilesAKernelToPtxWithoutAGpu()
    {
        Requires.Nvrtc();
        string ptx = Nvrtc.CompileToPtx(SaxpySource, "saxpy.cu", ["--gpu-architecture=compute_80"]);
        Assert.That(ptx, Does.Contain(".entry saxpy").And.Contain(".target sm_80"));
    }

    [Test]
    public void NvrtcReportsTheCompileLogOfABrokenKernel()
    {
        Requires.Nvrtc();
        var e = Assert.Throws<NvrtcCompileException>(() =>
            Nvrtc.CompileToPtx("extern \"C\" __global__ void broken() { undeclared_name = 1; }", "broken.cu", []));
        Assert.That(e!.Log, Does.Contain("undeclared_name"));
        Assert.That(e.Message, Does.Contain("broken.cu"));
    }

    [Test]
    public void NvrtcListsTheArchitecturesTheKernelsTarget()
    {
        Requires.Nvrtc();
        Assert.That(Nvrtc.SupportedArchitectures(), Does.Contain(80).And.Contain(90));
    }

    [Test]
    public void MissingDriverIsReportedWithAReasonNotACrash()
    {
        if (CudaDriver.IsAvailable)
            Assert.Ignore("a CUDA driver is present on this machine");
        Assert.That(CudaDriver.UnavailableReason, Is.Not.Null.And.Not.Empty);
        var e = Assert.Throws<CudaUnavailableException>(() => DeviceStorage.Allocate(Device.Cuda(0), 16));
        Assert.That(e!.Message, Does.Contain("CUDA driver"));
    }

    [Test]
    public void TensorsRoundTripThroughTheGpu()
    {
        Requires.CudaDevice();
        float[] values = Enumerable.Range(0, 1000).Select(i => i * 0.5f).ToArray();
        using Tensor host = Tensor.FromSpan<float>(values, [10, 100]);
        using Tensor gpu = host.ToDevice(Device.Cuda(0));
        using Tensor slice = gpu.Slice(0, 2, 3);
        using Tensor back = slice.ToDevice(Device.Cpu);
        Assert.That(gpu.Device, Is.EqualTo(Device.Cuda(0)));
        Assert.That(back.ToFloatArray(), Is.EqualTo(values[200..500]));
    }

    [Test]
    public void CudaDevicesDescribeThemselves()
    {
        Requires.CudaDevice();
        CudaDeviceInfo device = CudaDriver.Describe(0);
        Assert.That(device.ComputeMajor, Is.GreaterThanOrEqualTo(5));
        Assert.That(device.TotalMemoryBytes, Is.GreaterThan(0));
    }
}
