using ReClip.Kernels.Cuda;
using ReClip.Runtime.Cuda;
using ReClip.Runtime.Tensors;

namespace ReClip.Kernels.Ops;

/// <summary>The CUDA path of the patch embedding: the patches gathered by kernels/patchembedding.cu, then one cuBLAS GEMM with the weight.</summary>
public static partial class PatchEmbedding
{
    private static void ForwardCuda(Tensor image, Tensor weight, Tensor tokens, int patches, int depth)
    {
        int device = DeviceTensors.Require("PatchEmbedding", image, weight, tokens);
        using Tensor gathered = Tensor.Empty([patches, depth], DType.F32, tokens.Device);
        KernelCache.Load(KernelSources.Get("patchembedding"), device).Kernel("patch_gather").Launch(LaunchShapes.Elementwise(gathered.ElementCount), null,
            new KernelArguments().Pointer(DeviceTensors.Address(image)).Pointer(DeviceTensors.Address(gathered))
                .Int(image.Size(0)).Int(image.Size(1)).Int(image.Size(2)).Int(image.Size(3)).Int(weight.Size(2)));
        int dim = weight.Size(0);
        Cublas.Gemm(device, transposeA: false, transposeB: true, patches, dim, depth, 1,
            DeviceTensors.Address(gathered), depth, DeviceTensors.Address(weight), depth, 0, DeviceTensors.Address(tokens), dim);
    }
}
