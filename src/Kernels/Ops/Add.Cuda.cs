using ReClip.Kernels.Cuda;
using ReClip.Runtime.Cuda;
using ReClip.Runtime.Tensors;

namespace ReClip.Kernels.Ops;

/// <summary>
/// The CUDA launchers of Add (kernels/add.cu): grid-stride float4 loops for the in-place adds.
/// </summary>
public static partial class Add
{
    private static void BiasCuda(Tensor x, Tensor bias, int width)
    {
        int device = DeviceTensors.Require("Add.Bias", x, bias);
        long count = x.ElementCount;
        int vectorised = width % 4 == 0 ? DeviceTensors.Aligned16(x, bias) : 0;
        KernelCache.Load(KernelSources.Get("add"), device).Kernel("add_bias").Launch(
            LaunchShapes.Elementwise(LaunchShapes.Items(count, vectorised)), null, new KernelArguments()
                .Pointer(DeviceTensors.Address(x)).Pointer(DeviceTensors.Address(bias)).Long(count).Int(width).Int(vectorised));
    }

    private static void ResidualCuda(Tensor x, Tensor y)
    {
        int device = DeviceTensors.Require("Add.Residual", x, y);
        long count = x.ElementCount;
        int vectorised = DeviceTensors.Aligned16(x, y);
        KernelCache.Load(KernelSources.Get("add"), device).Kernel("add_residual").Launch(
            LaunchShapes.Elementwise(LaunchShapes.Items(count, vectorised)), null, new KernelArguments()
                .Pointer(DeviceTensors.Address(x)).Pointer(DeviceTensors.Address(y)).Long(count).Int(vectorised));
    }
}
