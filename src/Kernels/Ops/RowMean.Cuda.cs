using ReClip.Kernels.Cuda;
using ReClip.Runtime.Cuda;
using ReClip.Runtime.Tensors;

namespace ReClip.Kernels.Ops;

/// <summary>The CUDA launcher of the broadcast row means (kernels/columnsum.cu): one thread per column.</summary>
public static partial class RowMean
{
    private static void ForwardCuda(Tensor x, Tensor y)
    {
        int device = DeviceTensors.Require("RowMean", x, y);
        int rows = x.Size(0), columns = x.Size(1);
        KernelCache.Load(KernelSources.Get("columnsum"), device).Kernel("row_mean").Launch(LaunchShape.Cover(columns, 128), null, new KernelArguments()
            .Pointer(DeviceTensors.Address(x)).Pointer(DeviceTensors.Address(y)).Int(rows).Int(columns));
    }
}
