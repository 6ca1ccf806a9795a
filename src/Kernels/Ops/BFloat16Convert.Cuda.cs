using ReClip.Kernels.Cuda;
using ReClip.Runtime.Cuda;
using ReClip.Runtime.Tensors;

namespace ReClip.Kernels.Ops;

/// <summary>The CUDA launchers of the bfloat16 conversions (kernels/bfloat16.cu): grid-stride loops.</summary>
public static partial class BFloat16Convert
{
    private static void ForwardCuda(Tensor x, Tensor y)
    {
        int device = DeviceTensors.Require("BFloat16Convert", x);
        DeviceTensors.Require("BFloat16Convert", DType.BF16, [y]);
        Launch(device, "float_to_bfloat16", x, y);
    }

    private static void RoundIntoCuda(Tensor x, Tensor y)
    {
        int device = DeviceTensors.Require("BFloat16Convert.RoundInto", x, y);
        Launch(device, "float_rounded_to_bfloat16", x, y);
    }

    private static void Launch(int device, string kernel, Tensor x, Tensor y)
    {
        if (y.Device != x.Device)
            throw new ArgumentException($"BFloat16Convert: {y} is not on {x.Device} like the input");
        if (x.ElementCount == 0) return;
        KernelCache.Load(KernelSources.Get("bfloat16"), device).Kernel(kernel).Launch(LaunchShapes.Elementwise(x.ElementCount), null,
            new KernelArguments().Pointer(DeviceTensors.Address(x)).Pointer(DeviceTensors.Address(y)).Long(x.ElementCount));
    }
}
