using ReClip.Kernels.Cuda;
using ReClip.Runtime.Cuda;
using ReClip.Runtime.Memory;
using ReClip.Runtime.Tensors;
using ReClip.Tests.Support;

namespace ReClip.Tests.Kernels;

/// <summary>
/// kernels/attention64_bf16.cu is built for three and for four blocks per multiprocessor, and the launcher keeps
/// whichever times faster (LaunchVariants) on the promise that both give the same bits: the same source, and launch
/// bounds that only change how ptxas allocates registers. The emulator cannot hold them to it (it has no registers to
/// fit); this does, on a GPU (skipped without one).
/// </summary>
[TestFixture]
public sealed class AttentionBuildsTests
{
    [TestCase(2, 197, 12, 0)]
    [TestCase(1, 77, 8, 1)]
    public void BothBuildsGiveTheSameBits(int batch, int tokens, int heads, int causal)
    {
        Requires.CudaDevice();
        if (CudaDriver.Describe(0).ComputeMajor < 8)
            Assert.Ignore("bfloat16 tensor cores need compute capability 8.0");
        int width = heads * 64;
        var random = new Random(5);
        float[] Values(int count) => [.. Enumerable.Range(0, count).Select(_ => random.NextSingle() * 4 - 2)];
        Device gpu = Device.Cuda(0);
        using Tensor hostQ = Tensor.FromSpan<float>(Values(batch * tokens * width), [batch, tokens, width]);
        using Tensor hostK = Tensor.FromSpan<float>(Values(batch * tokens * width), [batch, tokens, width]);
        using Tensor hostV = Tensor.FromSpan<float>(Values(batch * tokens * width), [batch, tokens, width]);
        using Tensor q = hostQ.ToDevice(gpu), k = hostK.ToDevice(gpu), v = hostV.ToDevice(gpu);
        LoadedModule module = KernelCache.Load(KernelSources.Get("attention64_bf16"), 0);
        (float[] O, float[] Lse) Run(string kernel)
        {
            using Tensor o = Tensor.Zeros([batch, tokens, width], DType.F32, gpu), lse = Tensor.Zeros([batch, heads, tokens], DType.F32, gpu);
            module.Kernel(kernel).Launch(new LaunchShape((uint)((tokens + 63) / 64), (uint)heads, (uint)batch, 128), null, new KernelArguments()
                .Pointer(Address(q)).Long((long)tokens * width).Long(width)
                .Pointer(Address(k)).Pointer(Address(v)).Long((long)tokens * width).Long(width)
                .Pointer(Address(o)).Pointer(Address(lse))
                .Int(tokens).Int(tokens).Int(heads).Int(causal).Int(0).Float(0.125f));
            return (o.ToFloatArray(), lse.ToFloatArray());
        }
        (float[] three, float[] threeLse) = Run("attention_forward64_bf16");
        (float[] four, float[] fourLse) = Run("attention_forward64_bf16_4");
        Assert.That(four.Select(BitConverter.SingleToInt32Bits), Is.EqualTo(three.Select(BitConverter.SingleToInt32Bits)), "o");
        Assert.That(fourLse.Select(BitConverter.SingleToInt32Bits), Is.EqualTo(threeLse.Select(BitConverter.SingleToInt32Bits)), "logsumexp");
        Assert.That(three.Any(value => value != 0), Is.True, "the kernel ran");
    }

    private static ulong Address(Tensor tensor) => ((DeviceStorage)tensor.Storage).DevicePointer;
}
