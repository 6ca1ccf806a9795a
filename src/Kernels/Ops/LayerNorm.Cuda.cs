using ReClip.Kernels.Cuda;
using ReClip.Runtime.Cuda;
using ReClip.Runtime.Tensors;

namespace ReClip.Kernels.Ops;

/// <summary>The CUDA launchers of LayerNorm (kernels/layernorm.cu): one warp per row, 8 rows per block; y in float32 or bfloat16.</summary>
public static partial class LayerNorm
{
    private const uint RowsPerBlock = 8;

    private static void ForwardCuda(Tensor x, Tensor gamma, Tensor beta, Tensor y, float eps, Tensor? mean, Tensor? rstd, Tensor? keep, int rows, int width)
    {
        if (rows == 0) return;
        int device = DeviceTensors.Require("LayerNorm", [x, gamma, beta, .. DeviceTensors.Present(mean, rstd, keep)]);
        bool bfloat16 = DeviceTensors.RequireFloat32OrBFloat16("LayerNorm", y, device);
        CudaKernel kernel = KernelCache.Load(KernelSources.Get("layernorm"), device).Kernel(bfloat16 ? "layernorm_forward_bf16" : "layernorm_forward");
        kernel.Launch(RowBlocks(rows), null, new KernelArguments()
            .Pointer(DeviceTensors.Address(x)).Pointer(DeviceTensors.Address(gamma)).Pointer(DeviceTensors.Address(beta))
            .Pointer(DeviceTensors.Address(y)).Pointer(DeviceTensors.AddressOrNull(mean)).Pointer(DeviceTensors.AddressOrNull(rstd))
            .Pointer(DeviceTensors.AddressOrNull(keep)).Int(rows).Int(width).Float(eps));
    }

    private static void BackwardCuda(Tensor dy, Tensor x, Tensor gamma, Tensor mean, Tensor rstd, Tensor dx, Tensor? dgamma, Tensor? dbeta, int rows, int width,
        bool accumulate)
    {
        if (rows == 0) return;
        int device = DeviceTensors.Require("LayerNorm.Backward", [dy, x, gamma, mean, rstd, dx, .. DeviceTensors.Present(dgamma, dbeta)]);
        LoadedModule module = KernelCache.Load(KernelSources.Get("layernorm"), device);
        // dγ and dβ first: they read dy, which dx may be (in place).
        if (dgamma is not null || dbeta is not null)
            module.Kernel("layernorm_backward_parameters").Launch(LaunchShape.Cover(width, 256), null, new KernelArguments()
                .Pointer(DeviceTensors.Address(dy)).Pointer(DeviceTensors.Address(x)).Pointer(DeviceTensors.Address(mean))
                .Pointer(DeviceTensors.Address(rstd)).Pointer(DeviceTensors.AddressOrNull(dgamma)).Pointer(DeviceTensors.AddressOrNull(dbeta))
                .Int(rows).Int(width));
        module.Kernel("layernorm_backward_input").Launch(RowBlocks(rows), null, new KernelArguments()
            .Pointer(DeviceTensors.Address(dy)).Pointer(DeviceTensors.Address(x)).Pointer(DeviceTensors.Address(gamma))
            .Pointer(DeviceTensors.Address(mean)).Pointer(DeviceTensors.Address(rstd)).Pointer(DeviceTensors.Address(dx))
            .Int(rows).Int(width).Int(accumulate ? 1 : 0));
    }

    private static LaunchShape RowBlocks(int rows) => new((uint)((rows + RowsPerBlock - 1) / RowsPerBlock), 1, 1, 32 * RowsPerBlock);
}
