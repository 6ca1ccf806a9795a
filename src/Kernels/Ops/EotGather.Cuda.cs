using ReClip.Kernels.Cuda;
using ReClip.Runtime.Cuda;
using ReClip.Runtime.Tensors;

namespace ReClip.Kernels.Ops;

/// <summary>The CUDA launchers of the EOT gather (kernels/eotgather.cu): grid-stride loops, the indices copied to the device first.</summary>
public static partial class EotGather
{
    private static void ForwardCuda(Tensor x, ReadOnlySpan<int> indices, Tensor y, int length, int width)
    {
        int device = DeviceTensors.Require("EotGather", x, y);
        Launch("eot_gather_forward", device, x, indices, y, (long)indices.Length * width, length, width);
    }

    private static void BackwardCuda(Tensor dy, ReadOnlySpan<int> indices, Tensor dx, int length, int width)
    {
        int device = DeviceTensors.Require("EotGather.Backward", dy, dx);
        Launch("eot_gather_backward", device, dy, indices, dx, dx.ElementCount, length, width);
    }

    private static void Launch(string kernel, int device, Tensor input, ReadOnlySpan<int> indices, Tensor output, long count, int length, int width)
    {
        if (count == 0) return;
        using Tensor rows = DeviceConstants.Get(indices, input.Device);
        KernelCache.Load(KernelSources.Get("eotgather"), device).Kernel(kernel).Launch(LaunchShapes.Elementwise(count), null, new KernelArguments()
            .Pointer(DeviceTensors.Address(input)).Pointer(DeviceTensors.Address(rows)).Pointer(DeviceTensors.Address(output))
            .Int(indices.Length).Int(length).Int(width));
    }
}
