using ReClip.Kernels.Cuda;
using ReClip.Runtime.Cuda;
using ReClip.Runtime.Tensors;

namespace ReClip.Kernels.Ops;

/// <summary>The CUDA launcher of the finiteness check (kernels/nonfinite.cu): one grid-stride launch per tensor into one flags buffer, read once.</summary>
public static partial class FiniteCheck
{
    private static bool[] NonFiniteCuda(IReadOnlyList<Tensor> tensors)
    {
        int device = DeviceTensors.Require("FiniteCheck", [.. tensors]);
        using Tensor flags = Tensor.Zeros([tensors.Count], DType.I32, tensors[0].Device);
        CudaKernel kernel = KernelCache.Load(KernelSources.Get("nonfinite"), device).Kernel("nonfinite_flag");
        for (int i = 0; i < tensors.Count; i++)
            if (tensors[i].ElementCount > 0)
                kernel.Launch(LaunchShapes.Elementwise(tensors[i].ElementCount), null, new KernelArguments()
                    .Pointer(DeviceTensors.Address(tensors[i])).Long(tensors[i].ElementCount).Pointer(DeviceTensors.Address(flags)).Int(i));
        return [.. flags.ToFloatArray().Select(flag => flag != 0)];
    }
}
