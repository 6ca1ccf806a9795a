using ReClip.Kernels.Cuda;
using ReClip.Runtime.Cuda;
using ReClip.Runtime.Tensors;

namespace ReClip.Kernels.Ops;

/// <summary>The CUDA launcher of the token lookup (kernels/tokenembedding.cu): the ids copied to the device, a grid-stride loop over x.</summary>
public static partial class TokenEmbedding
{
    private static void ForwardCuda(Tensor embedding, ReadOnlySpan<int> ids, Tensor positional, int firstPosition, Tensor x)
    {
        int device = DeviceTensors.Require("TokenEmbedding", embedding, positional, x);
        if (x.ElementCount == 0) return;
        using Tensor rows = DeviceConstants.Get(ids, x.Device);
        KernelCache.Load(KernelSources.Get("tokenembedding"), device).Kernel("token_embedding").Launch(LaunchShapes.Elementwise(x.ElementCount), null,
            new KernelArguments()
                .Pointer(DeviceTensors.Address(embedding)).Pointer(DeviceTensors.Address(rows)).Pointer(DeviceTensors.Address(positional))
                .Pointer(DeviceTensors.Address(x)).Int(ids.Length).Int(x.Size(1)).Int(x.Size(2)).Int(firstPosition));
    }
}
