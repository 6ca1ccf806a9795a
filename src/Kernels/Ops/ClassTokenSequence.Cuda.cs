using ReClip.Kernels.Cuda;
using ReClip.Runtime.Cuda;
using ReClip.Runtime.Tensors;

namespace ReClip.Kernels.Ops;

/// <summary>The CUDA launcher of the image tower's input sequence (kernels/classtoken.cu): a grid-stride loop over x.</summary>
public static partial class ClassTokenSequence
{
    private static void ForwardCuda(Tensor tokens, Tensor grid, Tensor cls, Tensor clsPosition, Tensor x)
    {
        int device = DeviceTensors.Require("ClassTokenSequence", tokens, grid, cls, clsPosition, x);
        if (x.ElementCount == 0) return;
        KernelCache.Load(KernelSources.Get("classtoken"), device).Kernel("class_token_sequence").Launch(LaunchShapes.Elementwise(x.ElementCount), null,
            new KernelArguments()
                .Pointer(DeviceTensors.Address(tokens)).Pointer(DeviceTensors.Address(grid)).Pointer(DeviceTensors.Address(cls))
                .Pointer(DeviceTensors.Address(clsPosition)).Pointer(DeviceTensors.Address(x))
                .Int(x.Size(0)).Int(tokens.Size(1)).Int(x.Size(2)));
    }
}
