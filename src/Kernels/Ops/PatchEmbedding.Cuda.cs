using ReClip.Kernels.Cuda;
using ReClip.Runtime.Cuda;
using ReClip.Runtime.Tensors;

namespace ReClip.Kernels.Ops;

/// <summary>The CUDA half of the patch embedding: the patches gathered by kernels/patchembedding.cu (the GEMM after it is MatMul.Linear's).</summary>
public static partial class PatchEmbedding
{
    /// <summary>The patches [B·h·w, Cin·P·P] of <paramref name="image"/>, in float32 or bfloat16 as <paramref name="gathered"/> holds them.</summary>
    private static void GatherCuda(Tensor image, Tensor gathered, int patch)
    {
        int device = DeviceTensors.Require("PatchEmbedding", image);
        string kernel = DeviceTensors.RequireFloat32OrBFloat16("PatchEmbedding", gathered, device) ? "patch_gather_bf16" : "patch_gather";
        KernelCache.Load(KernelSources.Get("patchembedding"), device).Kernel(kernel).Launch(LaunchShapes.Elementwise(gathered.ElementCount), null,
            new KernelArguments().Pointer(DeviceTensors.Address(image)).Pointer(DeviceTensors.Address(gathered))
                .Int(image.Size(0)).Int(image.Size(1)).Int(image.Size(2)).Int(image.Size(3)).Int(patch));
    }
}
