using ReClip.Kernels.Cuda;
using ReClip.Runtime.Cuda;
using ReClip.Runtime.Tensors;

namespace ReClip.Kernels.Ops;

/// <summary>
/// The CUDA launchers of QuickGelu (kernels/quickgelu.cu): grid-stride loops over float4 vectors when the tensors are
/// 16-byte aligned; the forward's x and y in float32 or bfloat16.
/// </summary>
public static partial class QuickGelu
{
    private static void ForwardCuda(Tensor x, Tensor y)
    {
        int device = DeviceTensors.Require("QuickGelu", x.DType == DType.BF16 ? DType.BF16 : DType.F32, [x]);
        bool bfloat16 = DeviceTensors.RequireFloat32OrBFloat16("QuickGelu", y, device);
        long count = x.ElementCount;
        int vectorised = DeviceTensors.Aligned16(x, y);
        string kernel = x.DType == DType.BF16 ? "quickgelu_forward_bf16_bf16" : bfloat16 ? "quickgelu_forward_bf16" : "quickgelu_forward";
        KernelCache.Load(KernelSources.Get("quickgelu"), device).Kernel(kernel).Launch(
            LaunchShapes.Elementwise(LaunchShapes.Items(count, vectorised)), null, new KernelArguments()
                .Pointer(DeviceTensors.Address(x)).Pointer(DeviceTensors.Address(y)).Long(count).Int(vectorised));
    }

    private static void BackwardCuda(Tensor dy, Tensor x, Tensor dx)
    {
        int device = DeviceTensors.Require("QuickGelu.Backward", dy, x, dx);
        long count = x.ElementCount;
        int vectorised = DeviceTensors.Aligned16(dy, x, dx);
        KernelCache.Load(KernelSources.Get("quickgelu"), device).Kernel("quickgelu_backward").Launch(
            LaunchShapes.Elementwise(LaunchShapes.Items(count, vectorised)), null, new KernelArguments()
                .Pointer(DeviceTensors.Address(dy)).Pointer(DeviceTensors.Address(x)).Pointer(DeviceTensors.Address(dx))
                .Long(count).Int(vectorised));
    }
}
