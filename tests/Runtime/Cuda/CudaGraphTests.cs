using ReClip.Kernels.Cuda;
using ReClip.Kernels.Ops;
using ReClip.Runtime.Cuda;
using ReClip.Runtime.Memory;
using ReClip.Runtime.Tensors;
using ReClip.Tests.Support;

namespace ReClip.Tests.Runtime.Cuda;

/// <summary>
/// Graphs of the runtime's own work: while a thread captures, its launches, GEMMs, allocations, memsets and device copies
/// go to the capturing stream, and what the work allocates it also frees; host copies make the capture fail, leaving the
/// runtime as it was. The bookkeeping runs anywhere; the captures need a GPU.
/// </summary>
[TestFixture]
public sealed class CudaGraphTests
{
    [Test]
    public void ACaptureRoutesItsThreadsWorkAndTracksItsAllocations()
    {
        CaptureStream.Begin(0, 77);
        try
        {
            Assert.That(CaptureStream.For(0), Is.EqualTo((nint)77));
            Assert.That(CaptureStream.For(1), Is.EqualTo((nint)0), "another device's work is not captured");
            Assert.That(Task.Run(() => CaptureStream.For(0)).Result, Is.EqualTo((nint)0), "nor another thread's");
            Assert.Throws<InvalidOperationException>(() => CaptureStream.Begin(0, 78));
            Assert.That(() => CaptureStream.Refuse(0, "a copy to the host"), Throws.InvalidOperationException.With.Message.Contains("a copy to the host"));
            Assert.That(() => CaptureStream.Refuse(1, "a copy to the host"), Throws.Nothing, "another device's copies are not refused");
            CaptureStream.Allocated(0, 1000);
            CaptureStream.Allocated(0, 2000);
            Assert.That(CaptureStream.FreeNow(0, 1000), Is.True, "allocated within the capture: a free node");
        }
        finally
        {
            var kept = Assert.Throws<InvalidOperationException>(() => CaptureStream.End(checkKept: true).Dispose());
            Assert.That(kept!.Message, Does.Contain("kept 1 device allocation"));
        }
        Assert.That(CaptureStream.For(0), Is.EqualTo((nint)0), "ended, even when refused");
        Assert.That(CaptureStream.FreeNow(0, 3000), Is.True, "outside a capture every free is immediate");
    }

    [Test]
    public void AGraphOfOpsWithTemporariesReplaysTheirWork()
    {
        Requires.CudaDevice();
        Device gpu = Device.Cuda();
        using Tensor a = Tensor.FromSpan<float>([1, 2, 3, 4, 5, 6], [2, 3]).ToDevice(gpu), b = Tensor.FromSpan<float>([1, 0, 0, 1, 1, 1], [3, 2]).ToDevice(gpu);
        using Tensor y = Tensor.Zeros([2, 2], DType.F32, gpu);
        using CudaStream stream = CudaStream.CreateNonBlocking(gpu.Index);
        void Work()
        {
            using Tensor product = Tensor.Empty([2, 2], DType.F32, gpu), copy = Tensor.Empty([2, 2], DType.F32, gpu);
            product.Clear();
            MatMul.Multiply(a, b, product, beta: 1);
            copy.CopyFrom(product);
            Add.Residual(y, copy);
        }
        // Eagerly first, as a step is: the cuBLAS handle and its workspace must exist before any capture.
        Work();
        using (CudaGraph graph = CudaGraph.Capture(stream, Work))
        {
            Assert.That(y.ToFloatArray(), Is.EqualTo(new[] { 4f, 5, 10, 11 }), "nothing runs while capturing");
            graph.Launch(null);
            graph.Launch(null);
        }
        Work();
        Assert.That(y.ToFloatArray(), Is.EqualTo(new[] { 16f, 20, 40, 44 }), "two eager runs and two replays of y += a·b");
    }

    /// <summary>
    /// The gather's indices come from the device-kept lists: a graph reading them holds them, so a cache that drops them
    /// (more than its bound of other lists since) frees nothing a replay reads, and the memory goes with the graph.
    /// </summary>
    [Test]
    public void AGraphHoldsTheKeptListsItReads()
    {
        Requires.CudaDevice();
        Device gpu = Device.Cuda();
        using Tensor x = Tensor.FromSpan<float>([1, 2, 3, 4, 5, 6, 7, 8], [2, 2, 2]).ToDevice(gpu), y = Tensor.Zeros([2, 2], DType.F32, gpu);
        using CudaStream stream = CudaStream.CreateNonBlocking(gpu.Index);
        int[] rows = [1, 0];
        EotGather.Forward(x, rows, y);
        Storage indices;
        using (Tensor kept = DeviceConstants.Get(rows, gpu))
            indices = kept.Storage;
        using (CudaGraph graph = CudaGraph.Capture(stream, () => EotGather.Forward(x, rows, y)))
        {
            for (int i = 0; i <= DeviceConstants.MaxEntries; i++)
                using (DeviceConstants.Get<int>([75, i], gpu)) { }
            Assert.That(indices.IsReleased, Is.False, "dropped by the cache, held by the graph");
            y.Clear();
            graph.Launch(null);
            Assert.That(y.ToFloatArray(), Is.EqualTo(new[] { 3f, 4, 5, 6 }), "x[0, 1] and x[1, 0]");
        }
        Assert.That(indices.IsReleased, Is.True, "released with the graph");
    }

    /// <summary>A step's host inputs go through page-locked memory: the copy is queued in order with the kernels around it.</summary>
    [Test]
    public void APinnedUploadIsQueuedInOrder()
    {
        Requires.CudaDevice();
        Device gpu = Device.Cuda();
        using Tensor source = Tensor.FromSpan<float>([1, 2, 3], [3]), target = Tensor.Zeros([3], DType.F32, gpu);
        using var pinned = new PinnedBuffer(gpu.Index, source.ByteLength);
        pinned.Upload(source, target);
        Add.Residual(target, target);
        Assert.That(target.ToFloatArray(), Is.EqualTo(new[] { 2f, 4, 6 }));
        using Tensor tooLong = Tensor.Zeros([4]);
        Assert.That(() => pinned.Upload(tooLong, target), Throws.ArgumentException);
    }

    [Test]
    public void ACaptureThatReadsTheHostFailsAndLeavesTheRuntimeUsable()
    {
        Requires.CudaDevice();
        Device gpu = Device.Cuda();
        using Tensor x = Tensor.FromSpan<float>([1, 2], [2]).ToDevice(gpu);
        using CudaStream stream = CudaStream.CreateNonBlocking(gpu.Index);
        Assert.That(() => CudaGraph.Capture(stream, () => x.ToFloatArray()), Throws.InstanceOf<Exception>());
        Assert.That(CaptureStream.For(gpu.Index), Is.EqualTo((nint)0));
        using Tensor doubled = Tensor.Empty([2], DType.F32, gpu);
        doubled.CopyFrom(x);
        Add.Residual(doubled, x);
        Assert.That(doubled.ToFloatArray(), Is.EqualTo(new[] { 2f, 4 }));
    }
}
