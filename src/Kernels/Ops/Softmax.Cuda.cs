using ReClip.Kernels.Cuda;
using ReClip.Runtime.Cuda;
using ReClip.Runtime.Tensors;

namespace ReClip.Kernels.Ops;

/// <summary>The CUDA launchers of Softmax (kernels/softmax.cu): one warp per row, 8 rows per block, float4 loads when rows are 16-byte aligned.</summary>
public static partial class Softmax
{
    private static void ForwardCuda(Tensor x, Tensor y, float scale, int width)
    {
        int device = DeviceTensors.Require("Softmax", x, y);
        int rows = checked((int)(x.ElementCount / width));
        if (rows == 0) return;
        int vectorised = width % 4 == 0 ? DeviceTensors.Aligned16(x, y) : 0;
        KernelCache.Load(KernelSources.Get("softmax"), device).Kernel("softmax_forward").Launch(LaunchShapes.WarpPerRow(rows), null,
            new KernelArguments().Pointer(DeviceTensors.Address(x)).Pointer(DeviceTensors.Address(y))
                .Int(rows).Int(width).Float(scale).Int(vectorised));
    }

    private static void BackwardCuda(Tensor dy, Tensor y, Tensor dx, float scale, int width)
    {
        int device = DeviceTensors.Require("Softmax.Backward", dy, y, dx);
        int rows = checked((int)(y.ElementCount / width));
        if (rows == 0) return;
        int vectorised = width % 4 == 0 ? DeviceTensors.Aligned16(dy, y, dx) : 0;
        KernelCache.Load(KernelSources.Get("softmax"), device).Kernel("softmax_backward").Launch(LaunchShapes.WarpPerRow(rows), null,
            new KernelArguments().Pointer(DeviceTensors.Address(dy)).Pointer(DeviceTensors.Address(y)).Pointer(DeviceTensors.Address(dx))
                .Int(rows).Int(width).Float(scale).Int(vectorised));
    }
}
