using ReClip.Kernels.Cuda;
using ReClip.Runtime.Cuda;
using ReClip.Runtime.Tensors;

namespace ReClip.Kernels.Ops;

/// <summary>
/// The CUDA launchers of Add (kernels/add.cu): grid-stride float4 loops for the in-place adds; the bias gradient
/// in two deterministic kernels (sums of 64-row groups into a scratch tensor, then the groups in order).
/// </summary>
public static partial class Add
{
    /// <summary>gridDim.y limit of the group kernel: 65535 groups of 64 rows, ~4.2 million rows.</summary>
    private const int MaxGroups = 65535;

    private static void BiasCuda(Tensor x, Tensor bias, int width)
    {
        int device = DeviceTensors.Require("Add.Bias", x, bias);
        long count = x.ElementCount;
        int vectorised = width % 4 == 0 ? DeviceTensors.Aligned16(x, bias) : 0;
        KernelCache.Load(KernelSources.Get("add"), device).Kernel("add_bias").Launch(
            LaunchShapes.Elementwise(LaunchShapes.Items(count, vectorised)), null, new KernelArguments()
                .Pointer(DeviceTensors.Address(x)).Pointer(DeviceTensors.Address(bias)).Long(count).Int(width).Int(vectorised));
    }

    private static void ResidualCuda(Tensor x, Tensor y)
    {
        int device = DeviceTensors.Require("Add.Residual", x, y);
        long count = x.ElementCount;
        int vectorised = DeviceTensors.Aligned16(x, y);
        KernelCache.Load(KernelSources.Get("add"), device).Kernel("add_residual").Launch(
            LaunchShapes.Elementwise(LaunchShapes.Items(count, vectorised)), null, new KernelArguments()
                .Pointer(DeviceTensors.Address(x)).Pointer(DeviceTensors.Address(y)).Long(count).Int(vectorised));
    }

    private static void BiasBackwardCuda(Tensor dy, Tensor dbias, int width)
    {
        int device = DeviceTensors.Require("Add.BiasBackward", dy, dbias);
        int rows = checked((int)(dy.ElementCount / width));
        int groups = (rows + RowGroup - 1) / RowGroup;
        if (groups > MaxGroups)
            throw new ArgumentException($"Add.BiasBackward: {rows} rows exceed the CUDA path's {MaxGroups}·{RowGroup}");
        LoadedModule module = KernelCache.Load(KernelSources.Get("add"), device);
        // rows = 0: no groups; the total kernel then writes zeros (an empty sum) and the scratch is never read.
        using Tensor partial = Tensor.Empty([Math.Max(groups, 1), width], DType.F32, dy.Device);
        const uint threads = 256;
        uint columnBlocks = (uint)((width + threads - 1) / threads);
        if (groups > 0)
            module.Kernel("add_bias_backward_groups").Launch(new LaunchShape(columnBlocks, (uint)groups, 1, threads), null, new KernelArguments()
                .Pointer(DeviceTensors.Address(dy)).Pointer(DeviceTensors.Address(partial)).Int(rows).Int(width));
        module.Kernel("add_bias_backward_total").Launch(LaunchShape.Cover(width, threads), null, new KernelArguments()
            .Pointer(DeviceTensors.Address(partial)).Pointer(DeviceTensors.Address(dbias)).Int(groups).Int(width));
    }
}
