using ReClip.Kernels.Cuda;
using ReClip.Runtime.Cuda;
using ReClip.Runtime.Tensors;

namespace ReClip.Kernels.Ops;

/// <summary>The CUDA launchers of GumbelSoftmax (kernels/gumbel_softmax.cu): one warp per row, 8 rows per block; Philox noise drawn in the kernel.</summary>
public static partial class GumbelSoftmax
{
    private static void ForwardCuda(Tensor logits, Tensor noise, Tensor mask, Tensor ySoft, int classes, float scale, float tau)
    {
        DeviceTensors.Require("GumbelSoftmax", logits, noise);
        LaunchForward(logits, noise, seed: 0, stream: 0, null, firstIndex: 0, mask, ySoft, classes, scale, tau);
    }

    private static void ForwardCuda(Tensor logits, ulong seed, ulong stream, Tensor? streamAt, ulong firstIndex, Tensor mask, Tensor ySoft, int classes,
        float scale, float tau) =>
        LaunchForward(logits, null, seed, stream, streamAt, firstIndex, mask, ySoft, classes, scale, tau);

    /// <summary>One kernel for both noise sources: explicit noise when given, else Philox drawn in the kernel.</summary>
    private static void LaunchForward(Tensor logits, Tensor? noise, ulong seed, ulong stream, Tensor? streamAt, ulong firstIndex, Tensor mask, Tensor ySoft,
        int classes, float scale, float tau)
    {
        int device = DeviceTensors.Require("GumbelSoftmax", logits, mask, ySoft);
        if (streamAt is not null)
        {
            DeviceTensors.Require("GumbelSoftmax stream", DType.I32, [streamAt]);
            DeviceTensors.RequireAligned8("GumbelSoftmax stream", streamAt);
        }
        int rows = Rows(logits, classes);
        if (rows == 0) return;
        KernelCache.Load(KernelSources.Get("gumbel_softmax"), device).Kernel("gumbel_softmax_forward").Launch(LaunchShapes.WarpPerRow(rows), null,
            new KernelArguments().Pointer(DeviceTensors.Address(logits)).Pointer(DeviceTensors.AddressOrNull(noise))
                .Pointer(DeviceTensors.Address(mask)).Pointer(DeviceTensors.Address(ySoft))
                .Int(rows).Int(classes).Float(scale).Float(tau).Long((long)seed).Long((long)stream).Long((long)firstIndex)
                .Pointer(DeviceTensors.AddressOrNull(streamAt)));
    }

    private static void BackwardCuda(Tensor dMask, Tensor ySoft, Tensor dLogits, int classes, float factor)
    {
        int device = DeviceTensors.Require("GumbelSoftmax.Backward", dMask, ySoft, dLogits);
        int rows = Rows(dMask, classes);
        if (rows == 0) return;
        KernelCache.Load(KernelSources.Get("gumbel_softmax"), device).Kernel("gumbel_softmax_backward").Launch(LaunchShapes.WarpPerRow(rows), null,
            new KernelArguments().Pointer(DeviceTensors.Address(dMask)).Pointer(DeviceTensors.Address(ySoft)).Pointer(DeviceTensors.Address(dLogits))
                .Int(rows).Int(classes).Float(factor));
    }
}
