using ReClip.Kernels.Cuda;
using ReClip.Runtime.Cuda;
using ReClip.Runtime.Tensors;

namespace ReClip.Kernels.Ops;

/// <summary>The CUDA launcher of Argmax (kernels/argmax.cu): one warp per row, 8 rows per block.</summary>
public static partial class Argmax
{
    private static void ForwardCuda(Tensor x, Tensor indices)
    {
        int device = DeviceTensors.Require("Argmax", x);
        DeviceTensors.Require("Argmax indices", DType.I32, indices);
        if (indices.Device != x.Device)
            throw new ArgumentException($"Argmax: indices {indices} are not on {x.Device} like x");
        int width = x.Size(-1), rows = checked((int)(x.ElementCount / width));
        if (rows == 0) return;
        KernelCache.Load(KernelSources.Get("argmax"), device).Kernel("argmax_rows").Launch(LaunchShapes.WarpPerRow(rows), null,
            new KernelArguments().Pointer(DeviceTensors.Address(x)).Pointer(DeviceTensors.Address(indices)).Int(rows).Int(width));
    }
}
