using System.Runtime.InteropServices;
using ReClip.Kernels.Cuda;
using ReClip.Runtime.Cuda;
using ReClip.Runtime.Tensors;

namespace ReClip.Kernels.Ops;

/// <summary>
/// The CUDA launcher of ConfusionMatrix (kernels/confusionmatrix.cu). The C×C 64-bit counts and the first invalid
/// pixel live in one device scratch tensor (i32 words: 2·C·C for the counts, then one for the pixel, initialised to
/// int.MaxValue), uploaded zeroed, filled by one kernel and read back in one copy; the host counts change only when
/// no pixel was invalid, and an invalid one is reported with the CPU path's message.
/// </summary>
public static partial class ConfusionMatrix
{
    /// <summary>Per-block 32-bit shared histograms up to this size (48 KiB, the default limit of dynamic shared memory: C ≤ 110).</summary>
    private const int MaxSharedBytes = 48 * 1024;

    private static void AccumulateCuda(Tensor prediction, Tensor groundTruth, long[] counts, int classes, int ignore)
    {
        int device = DeviceTensors.Require("ConfusionMatrix", DType.I32, prediction, groundTruth);
        int pixels = checked((int)groundTruth.ElementCount);
        if (pixels == 0) return;
        int bins = classes * classes;
        int[] initial = new int[2 * bins + 1];
        initial[^1] = int.MaxValue;
        using Tensor scratch = DeviceTensors.Upload<int>(initial, groundTruth.Device);
        ulong countsAddress = DeviceTensors.Address(scratch), firstInvalidAddress = countsAddress + (ulong)bins * sizeof(long);
        long sharedBytes = (long)bins * sizeof(uint);
        bool shared = sharedBytes <= MaxSharedBytes;
        LaunchShape shape = LaunchShapes.Elementwise(pixels) with { SharedBytes = shared ? (uint)sharedBytes : 0 };
        KernelCache.Load(KernelSources.Get("confusionmatrix"), device).Kernel("confusion_matrix").Launch(shape, null, new KernelArguments()
            .Pointer(DeviceTensors.Address(prediction)).Pointer(DeviceTensors.Address(groundTruth))
            .Pointer(countsAddress).Pointer(firstInvalidAddress).Int(pixels).Int(classes).Int(ignore).Int(shared ? 1 : 0));

        using Tensor result = scratch.ToDevice(Device.Cpu);
        Span<int> words = result.AsSpan<int>();
        int firstInvalid = words[^1];
        if (firstInvalid != int.MaxValue)
            throw new ArgumentException(Problem(ElementAt(prediction, firstInvalid), ElementAt(groundTruth, firstInvalid), firstInvalid, classes, ignore));
        ReadOnlySpan<long> deviceCounts = MemoryMarshal.Cast<int, long>(words[..(2 * bins)]);
        for (int i = 0; i < bins; i++)
            counts[i] += deviceCounts[i];
    }

    /// <summary>One element of a contiguous i32 CUDA tensor, copied to the host (only to name an invalid pixel's labels).</summary>
    private static int ElementAt(Tensor tensor, int index)
    {
        using Tensor flat = tensor.Reshape(-1);
        using Tensor element = flat.Slice(0, index, 1);
        using Tensor copy = element.ToDevice(Device.Cpu);
        return copy.AsSpan<int>()[0];
    }
}
