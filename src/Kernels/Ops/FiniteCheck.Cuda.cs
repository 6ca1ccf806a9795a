using ReClip.Kernels.Cuda;
using ReClip.Runtime.Cuda;
using ReClip.Runtime.Tensors;

namespace ReClip.Kernels.Ops;

/// <summary>The CUDA launcher of the finiteness check (kernels/nonfinite.cu): the flags zeroed, then one grid-stride launch per tensor.</summary>
public static partial class FiniteCheck
{
    private static void QueueCuda(IReadOnlyList<Tensor> tensors, Tensor flags)
    {
        int device = DeviceTensors.Require("FiniteCheck", [.. tensors]);
        if (DeviceTensors.Require("FiniteCheck", DType.I32, flags) != device)
            throw new ArgumentException($"FiniteCheck: the flags {flags} are not on cuda:{device} with the tensors");
        flags.Clear();
        CudaKernel kernel = KernelCache.Load(KernelSources.Get("nonfinite"), device).Kernel("nonfinite_flag");
        for (int i = 0; i < tensors.Count; i++)
            if (tensors[i].ElementCount > 0)
                kernel.Launch(LaunchShapes.Elementwise(tensors[i].ElementCount), null, new KernelArguments()
                    .Pointer(DeviceTensors.Address(tensors[i])).Long(tensors[i].ElementCount).Pointer(DeviceTensors.Address(flags)).Int(i));
    }
}
