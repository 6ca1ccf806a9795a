using ReClip.Kernels.Cuda;
using ReClip.Runtime.Cuda;
using ReClip.Runtime.Tensors;

namespace ReClip.Kernels.Ops;

/// <summary>The CUDA launchers of L2Normalize (kernels/l2normalize.cu): one warp per row, 8 rows per block, float4 loads when rows are 16-byte aligned.</summary>
public static partial class L2Normalize
{
    private static void ForwardCuda(Tensor x, Tensor y, Tensor? norm, int width)
    {
        int device = DeviceTensors.Require("L2Normalize", [x, y, .. DeviceTensors.Present(norm)]);
        int rows = checked((int)(x.ElementCount / width));
        if (rows == 0) return;
        int vectorised = width % 4 == 0 ? DeviceTensors.Aligned16(x, y) : 0;
        KernelCache.Load(KernelSources.Get("l2normalize"), device).Kernel("l2normalize_forward").Launch(LaunchShapes.WarpPerRow(rows), null,
            new KernelArguments().Pointer(DeviceTensors.Address(x)).Pointer(DeviceTensors.Address(y)).Pointer(DeviceTensors.AddressOrNull(norm))
                .Int(rows).Int(width).Int(vectorised));
    }

    private static void BackwardCuda(Tensor dy, Tensor y, Tensor norm, Tensor dx, int width)
    {
        int device = DeviceTensors.Require("L2Normalize.Backward", dy, y, norm, dx);
        int rows = checked((int)(y.ElementCount / width));
        if (rows == 0) return;
        int vectorised = width % 4 == 0 ? DeviceTensors.Aligned16(dy, y, dx) : 0;
        KernelCache.Load(KernelSources.Get("l2normalize"), device).Kernel("l2normalize_backward").Launch(LaunchShapes.WarpPerRow(rows), null,
            new KernelArguments().Pointer(DeviceTensors.Address(dy)).Pointer(DeviceTensors.Address(y)).Pointer(DeviceTensors.Address(norm))
                .Pointer(DeviceTensors.Address(dx)).Int(rows).Int(width).Int(vectorised));
    }
}
