using ReClip.Kernels.Cuda;
using ReClip.Runtime.Cuda;
using ReClip.Runtime.Tensors;

namespace ReClip.Kernels.Ops;

/// <summary>
/// The CUDA path of the separable resizes (kernels/resize.cu): the taps the CPU path computes are copied to the
/// device and one kernel gathers every output element from them, so both devices use identical weights.
/// </summary>
internal static class SeparableResizeCuda
{
    /// <summary>input [planes, h, w] → output [planes, H, W], or [h, w, planes] → [H, W, planes] when <paramref name="channelsLast"/>.</summary>
    public static void Resize(string op, Tensor input, Tensor output, int planes, ResizeTaps rows, ResizeTaps columns, bool channelsLast)
    {
        int device = DeviceTensors.Require(op, input, output);
        int inHeight = channelsLast ? input.Size(0) : input.Size(-2), inWidth = channelsLast ? input.Size(1) : input.Size(-1);
        int outHeight = rows.Index.Length / rows.Count, outWidth = columns.Index.Length / columns.Count;
        using Tensor rowIndex = DeviceConstants.Get<int>(rows.Index, output.Device), rowWeight = DeviceConstants.Get<float>(rows.Weight, output.Device);
        using Tensor columnIndex = DeviceConstants.Get<int>(columns.Index, output.Device), columnWeight = DeviceConstants.Get<float>(columns.Weight, output.Device);
        KernelCache.Load(KernelSources.Get("resize"), device).Kernel("resize_separable").Launch(LaunchShapes.Elementwise(output.ElementCount), null,
            new KernelArguments()
                .Pointer(DeviceTensors.Address(input)).Pointer(DeviceTensors.Address(output))
                .Pointer(DeviceTensors.Address(rowIndex)).Pointer(DeviceTensors.Address(rowWeight))
                .Pointer(DeviceTensors.Address(columnIndex)).Pointer(DeviceTensors.Address(columnWeight))
                .Int(rows.Count).Int(planes).Int(inHeight).Int(inWidth).Int(outHeight).Int(outWidth).Int(channelsLast ? 1 : 0));
    }
}
