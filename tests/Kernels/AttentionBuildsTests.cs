using ReClip.Kernels.Cuda;
using ReClip.Kernels.Ops;
using ReClip.Runtime.Cuda;
using ReClip.Runtime.Memory;
using ReClip.Runtime.Tensors;
using ReClip.Tests.Support;

namespace ReClip.Tests.Kernels;

/// <summary>
/// kernels/attention64_bf16.cu is built for three and for four blocks of 64 queries per multiprocessor and for wide
/// blocks of a whole sequence, and the launcher keeps whichever times fastest (LaunchVariants) on the promise that all
/// give the same bits: the same source, each warp's arithmetic the same whatever its block, and launch bounds that only
/// change how ptxas allocates registers. The emulator holds them to it but for registers, which it has none of; this
/// does, on a GPU (skipped without one).
/// </summary>
[TestFixture]
public sealed class AttentionBuildsTests
{
    [TestCase(2, 197, 12, 0)]
    [TestCase(1, 77, 8, 1)]
    [TestCase(1, 442, 4, 0)]
    public void EveryBuildGivesTheSameBits(int batch, int tokens, int heads, int causal)
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
        var blocksOf64 = new LaunchShape((uint)((tokens + 63) / 64), (uint)heads, (uint)batch, 128);
        (float[] O, float[] Lse) Run(string kernel, LaunchShape shape)
        {
            using Tensor o = Tensor.Zeros([batch, tokens, width], DType.F32, gpu), lse = Tensor.Zeros([batch, heads, tokens], DType.F32, gpu);
            module.Kernel(kernel).Launch(shape, null, new KernelArguments()
                .Pointer(Address(q)).Long((long)tokens * width).Long(width)
                .Pointer(Address(k)).Pointer(Address(v)).Long((long)tokens * width).Long(width)
                .Pointer(Address(o)).Pointer(Address(lse))
                .Int(tokens).Int(tokens).Int(heads).Int(causal).Int(0).Float(0.125f));
            return (o.ToFloatArray(), lse.ToFloatArray());
        }
        (float[] three, float[] threeLse) = Run("attention_forward64_bf16", blocksOf64);
        (float[] four, float[] fourLse) = Run("attention_forward64_bf16_4", blocksOf64);
        (float[] wide, float[] wideLse) = Run("attention_forward64_bf16_wide", Attention.WideShape(tokens, heads, batch));
        Assert.Multiple(() =>
        {
            Assert.That(four.Select(BitConverter.SingleToInt32Bits), Is.EqualTo(three.Select(BitConverter.SingleToInt32Bits)), "o at four blocks");
            Assert.That(fourLse.Select(BitConverter.SingleToInt32Bits), Is.EqualTo(threeLse.Select(BitConverter.SingleToInt32Bits)), "logsumexp at four blocks");
            Assert.That(wide.Select(BitConverter.SingleToInt32Bits), Is.EqualTo(three.Select(BitConverter.SingleToInt32Bits)), "o in wide blocks");
            Assert.That(wideLse.Select(BitConverter.SingleToInt32Bits), Is.EqualTo(threeLse.Select(BitConverter.SingleToInt32Bits)), "logsumexp in wide blocks");
            Assert.That(three.Any(value => value != 0), Is.True, "the kernel ran");
        });
    }

    private static ulong Address(Tensor tensor) => ((DeviceStorage)tensor.Storage).DevicePointer;
}
