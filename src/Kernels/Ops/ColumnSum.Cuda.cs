using ReClip.Kernels.Cuda;
using ReClip.Runtime.Cuda;
using ReClip.Runtime.Tensors;

namespace ReClip.Kernels.Ops;

/// <summary>The CUDA launcher of the column sums (kernels/columnsum.cu): one thread per column.</summary>
public static partial class ColumnSum
{
    private static void ForwardCuda(Tensor x, Tensor y)
    {
        int device = DeviceTensors.Require("ColumnSum", x, y);
        int rows = x.Size(0), columns = x.Size(1);
        if (columns == 0) return;
        KernelCache.Load(KernelSources.Get("columnsum"), device).Kernel("column_sum").Launch(LaunchShape.Cover(columns, 128), null, new KernelArguments()
            .Pointer(DeviceTensors.Address(x)).Pointer(DeviceTensors.Address(y)).Int(rows).Int(columns));
    }
}
