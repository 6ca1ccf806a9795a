using ReClip.Kernels.Cuda;
using ReClip.Runtime.Cuda;
using ReClip.Runtime.Tensors;

namespace ReClip.Kernels.Ops;

/// <summary>The CUDA launcher of Sgd (kernels/sgd.cu): one fused grid-stride pass over parameter, gradient and momentum buffer.</summary>
public static partial class Sgd
{
    private static void StepCuda(Tensor parameter, Tensor gradient, Tensor buffer, bool first, float lr, float momentum, float weightDecay)
    {
        int device = DeviceTensors.Require("Sgd", parameter, gradient, buffer);
        long count = parameter.ElementCount;
        int vectorised = DeviceTensors.Aligned16(parameter, gradient, buffer);
        KernelCache.Load(KernelSources.Get("sgd"), device).Kernel("sgd_step").Launch(
            LaunchShapes.Elementwise(LaunchShapes.Items(count, vectorised)), null, new KernelArguments()
                .Pointer(DeviceTensors.Address(parameter)).Pointer(DeviceTensors.Address(gradient)).Pointer(DeviceTensors.Address(buffer))
                .Long(count).Int(first ? 1 : 0).Float(lr).Float(momentum).Float(weightDecay).Int(vectorised));
    }
}
