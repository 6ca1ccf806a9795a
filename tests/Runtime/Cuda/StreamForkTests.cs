using ReClip.Runtime.Cuda;
using ReClip.Runtime.Tensors;
using ReClip.Tests.Support;

namespace ReClip.Tests.Runtime.Cuda;

/// <summary>Work beside the main stream: inline on the CPU; on a GPU, ordered after what came before and before what follows the join.</summary>
[TestFixture]
public sealed class StreamForkTests
{
    [Test]
    public void OnTheCpuTheWorkRunsWhereItIs()
    {
        using StreamFork fork = StreamFork.Begin(Device.Cpu);
        Assert.That(fork.Run(() => CaptureStream.Beside(0)), Is.False, "nothing is queued beside");
        Assert.That(StreamFork.IsOpen(Device.Cpu), Is.False, "no stream to free memory in the order of");
        fork.Join();
        fork.Join();
        Assert.That(() => fork.Run(() => 1), Throws.InstanceOf<ObjectDisposedException>(), "no work after the join");
    }

    [Test]
    public void WorkBesideSeesWhatCameBeforeAndIsSeenAfterTheJoin()
    {
        Requires.CudaDevice();
        const int n = 1 << 20;
        Device gpu = Device.Cuda(0);
        using Tensor x = Tensor.Zeros([n], DType.F32, gpu);
        Tensor? y = null;
        using (StreamFork fork = StreamFork.Begin(gpu))
        {
            y = fork.Run(() =>
            {
                Assert.That(CaptureStream.Beside(0), Is.True);
                Assert.That(CaptureStream.For(0), Is.Not.EqualTo((nint)0), "queued on the side stream");
                Assert.That(() => x.ToDevice(Device.Cpu), Throws.InvalidOperationException.With.Message.Contains("beside the main stream"));
                Tensor copy = Tensor.Empty([n], DType.F32, gpu);
                copy.CopyFrom(x);
                using Tensor hostOnes = Tensor.FromSpan<float>(Enumerable.Repeat(1f, n).ToArray(), [n]);
                using Tensor ones = hostOnes.ToDevice(gpu);
                ReClip.Kernels.Ops.Add.Residual(copy, ones);
                return copy;
            });
            Assert.That(CaptureStream.Beside(0), Is.False);
            Assert.That(StreamFork.IsOpen(gpu), Is.True, "caches hold on to their lists until the join");
            fork.Join();
            Assert.That(StreamFork.IsOpen(gpu), Is.False);
        }
        using (y)
        using (Tensor back = y!.ToDevice(Device.Cpu))
            Assert.That(back.ToFloatArray(), Is.All.EqualTo(1f), "zeros from before the fork, plus ones copied from the host beside, read after the join");
    }
}
