using ReClip.Runtime.Cuda;
using ReClip.Runtime.Memory;
using ReClip.Runtime.Tensors;
using ReClip.Tests.Support;

namespace ReClip.Tests.Runtime.Cuda;

/// <summary>Module load, launch, streams, events and graph replay on a real GPU (skipped without one).</summary>
[TestFixture]
public sealed class CudaLaunchTests
{
    private const string Source = """
        extern "C" __global__ void axpy(float a, const float* x, float* y, int n)
        {
            int i = blockIdx.x * blockDim.x + threadIdx.x;
            if (i < n) y[i] = a * x[i] + y[i];
        }
        """;

    /// <summary>The probe source compiled for GPU 0 and loaded there.</summary>
    private static CudaModule LoadProbe()
    {
        CudaDeviceInfo device = CudaDriver.Describe(0);
        KernelImage compiled = KernelCache.Compile(new KernelSource("axpy_probe", Source, []), KernelCache.TargetFor(device.ComputeMajor, device.ComputeMinor));
        return CudaModule.Load(0, compiled.Image, "axpy_probe");
    }

    [Test]
    public void LaunchOnAStreamTimedByEventsAndReplayedAsAGraph()
    {
        Requires.CudaDevice();
        const int n = 1000;
        using CudaModule module = LoadProbe();
        CudaKernel kernel = module.Kernel("axpy");
        using Tensor x = Tensor.FromSpan<float>(Enumerable.Range(0, n).Select(i => (float)i).ToArray(), [n]).ToDevice(Device.Cuda(0));
        using Tensor y = Tensor.Zeros([n]).ToDevice(Device.Cuda(0));
        ulong px = ((DeviceStorage)x.Storage).DevicePointer, py = ((DeviceStorage)y.Storage).DevicePointer;
        KernelArguments arguments = new KernelArguments().Float(2).Pointer(px).Pointer(py).Int(n);

        using CudaStream stream = CudaStream.Create(0);
        using var timer = new CudaTimer(stream);
        timer.Start();
        kernel.Launch(LaunchShape.Cover(n, 128), stream, arguments);
        Assert.That(timer.StopMilliseconds(), Is.GreaterThanOrEqualTo(0));

        using CudaGraph graph = CudaGraph.Capture(stream, () => kernel.Launch(LaunchShape.Cover(n, 128), stream, arguments));
        graph.Launch(stream);
        graph.Launch(stream);
        stream.Synchronize();
        using Tensor back = y.ToDevice(Device.Cpu);
        Assert.That(back.ToFloatArray(), Is.EqualTo(Enumerable.Range(0, n).Select(i => 6f * i).ToArray()), "one launch and two graph replays of y += 2x");
        Assert.That(kernel.ActiveBlocksPerMultiprocessor(128), Is.GreaterThan(0));
    }

    [Test]
    public void AKernelProfileTimesEveryLaunchByName()
    {
        Requires.CudaDevice();
        const int n = 1 << 16;
        using CudaModule module = LoadProbe();
        CudaKernel kernel = module.Kernel("axpy");
        using Tensor x = Tensor.Zeros([n]).ToDevice(Device.Cuda(0)), y = Tensor.Zeros([n]).ToDevice(Device.Cuda(0));
        KernelArguments arguments = new KernelArguments().Float(2).Pointer(((DeviceStorage)x.Storage).DevicePointer)
            .Pointer(((DeviceStorage)y.Storage).DevicePointer).Int(n);
        kernel.Launch(LaunchShape.Cover(n, 128), null, arguments);
        IReadOnlyList<KernelTime> times;
        using (KernelProfile profile = KernelProfile.Start(0))
        {
            for (int i = 0; i < 3; i++)
                kernel.Launch(LaunchShape.Cover(n, 128), null, arguments);
            times = profile.Stop();
        }
        kernel.Launch(LaunchShape.Cover(n, 128), null, arguments);
        Assert.That(times, Has.Count.EqualTo(1), "one name, the launch outside the profile not counted");
        Assert.That(times[0].Name, Is.EqualTo("axpy"));
        Assert.That(times[0].Calls, Is.EqualTo(3));
        Assert.That(times[0].Milliseconds, Is.GreaterThan(0));
    }

    [Test]
    public void AnArgumentListThatDoesNotFitTheKernelIsRefusedBeforeTheLaunch()
    {
        Requires.CudaDevice();
        const int n = 64;
        using CudaModule module = LoadProbe();
        CudaKernel kernel = module.Kernel("axpy");
        if (!kernel.ChecksArguments)
            Assert.Ignore($"driver {CudaDriver.DriverVersion()} does not report kernel parameters (CUDA 12.4 does)");
        using Tensor x = Tensor.Zeros([n]).ToDevice(Device.Cuda(0)), y = Tensor.Zeros([n]).ToDevice(Device.Cuda(0));
        ulong px = ((DeviceStorage)x.Storage).DevicePointer, py = ((DeviceStorage)y.Storage).DevicePointer;

        var missing = Assert.Throws<ArgumentException>(() => kernel.Launch(LaunchShape.Cover(n, 128), null, new KernelArguments().Float(2).Pointer(px).Pointer(py)));
        Assert.That(missing!.Message, Does.Contain("kernel axpy takes 4 parameters (4 8 8 4 bytes), its launch gave 3"));
        var wide = Assert.Throws<ArgumentException>(() => kernel.Launch(LaunchShape.Cover(n, 128), null, new KernelArguments().Float(2).Pointer(px).Pointer(py).Long(n)));
        Assert.That(wide!.Message, Does.Contain("parameter 3 takes 4 bytes, its launch gave 8"));
        using Tensor back = y.ToDevice(Device.Cpu);
        Assert.That(back.ToFloatArray(), Is.All.EqualTo(0f), "neither launch ran");
    }

    [Test]
    public void UnknownKernelNameIsNamedInTheError()
    {
        Requires.CudaDevice();
        using CudaModule module = LoadProbe();
        var e = Assert.Throws<CudaException>(() => module.Kernel("missing"));
        Assert.That(e!.Message, Does.Contain("missing").And.Contain("cuModuleGetFunction"));
    }
}
