using ReClip.Kernels.Cuda;
using ReClip.Runtime.Cuda;
using ReClip.Runtime.Tensors;

namespace ReClip.Kernels.Ops;

/// <summary>The CUDA launchers of the prompt embedding (kernels/promptembedding.cu): grid-stride loops over the outputs.</summary>
public static partial class PromptEmbedding
{
    private static void ForwardCuda(Tensor embedding, Tensor context, ReadOnlySpan<int> slotIds, int slotCount, Tensor positional, Tensor x,
        int startToken, int classes, int width)
    {
        int device = DeviceTensors.Require("PromptEmbedding", embedding, context, positional, x);
        if (x.ElementCount == 0) return;
        using Tensor ids = DeviceConstants.Get(slotIds, x.Device);
        KernelCache.Load(KernelSources.Get("promptembedding"), device).Kernel("prompt_embedding_forward").Launch(
            LaunchShapes.Elementwise(x.ElementCount), null, new KernelArguments()
                .Pointer(DeviceTensors.Address(embedding)).Pointer(DeviceTensors.Address(context)).Pointer(DeviceTensors.Address(ids))
                .Pointer(DeviceTensors.Address(positional)).Pointer(DeviceTensors.Address(x))
                .Int(classes).Int(context.Size(0)).Int(slotCount).Int(width).Int(startToken));
    }

    private static void BackwardCuda(Tensor dx, Tensor dContext)
    {
        int device = DeviceTensors.Require("PromptEmbedding.Backward", dx, dContext);
        if (dContext.ElementCount == 0) return;
        KernelCache.Load(KernelSources.Get("promptembedding"), device).Kernel("prompt_embedding_backward").Launch(
            LaunchShapes.Elementwise(dContext.ElementCount), null, new KernelArguments()
                .Pointer(DeviceTensors.Address(dx)).Pointer(DeviceTensors.Address(dContext))
                .Int(dx.Size(0)).Int(dx.Size(1)).Int(dContext.Size(0)).Int(dx.Size(2)));
    }
}
