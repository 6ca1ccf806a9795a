using ReClip.Kernels.Cuda;
using ReClip.Runtime.Cuda;
using ReClip.Runtime.Tensors;

namespace ReClip.Kernels.Ops;

/// <summary>
/// The CUDA paths of the convolution (kernels/conv.cu): im2col of every image at once into a scratch (none for k = 1,
/// where the input is its own columns), then cuBLAS GEMMs batched over the images; the weight is shared (stride 0).
/// The backward's dx goes through column gradients and col2im, dweight sums the images' GEMMs in order (beta = 1 after the first).
/// </summary>
public static partial class Conv2d
{
    private static void ForwardCuda(Tensor x, Tensor weight, Tensor? bias, Tensor y, ConvSize size)
    {
        int device = DeviceTensors.Require("Conv2d", [x, weight, y, .. new[] { bias }.OfType<Tensor>()]);
        if (y.ElementCount == 0) return;
        LoadedModule module = KernelCache.Load(KernelSources.Get("conv"), device);
        int plane = size.Height * size.Width;
        if (bias is not null)
            module.Kernel("conv_fill_bias").Launch(LaunchShapes.Elementwise(y.ElementCount), null, new KernelArguments()
                .Pointer(DeviceTensors.Address(y)).Pointer(DeviceTensors.Address(bias)).Int(size.Batch).Int(size.OutChannels).Int(plane));
        using Tensor? columns = Columns(module, x, size);
        ulong source = columns is null ? DeviceTensors.Address(x) : DeviceTensors.Address(columns);
        Cublas.GemmStridedBatched(device, transposeA: false, transposeB: false, size.OutChannels, plane, size.Depth, 1,
            DeviceTensors.Address(weight), size.Depth, 0, source, plane, (long)size.Depth * plane,
            bias is null ? 0 : 1, DeviceTensors.Address(y), plane, (long)size.OutChannels * plane, size.Batch);
    }

    private static void BackwardCuda(Tensor dy, Tensor x, Tensor weight, Tensor? dx, Tensor? dweight, Tensor? dbias, ConvSize size)
    {
        int device = DeviceTensors.Require("Conv2d.Backward", [dy, x, weight, .. new[] { dx, dweight, dbias }.OfType<Tensor>()]);
        LoadedModule module = KernelCache.Load(KernelSources.Get("conv"), device);
        int plane = size.Height * size.Width, depth = size.Depth;
        if (dbias is not null && size.OutChannels > 0)
            module.Kernel("conv_bias_gradient").Launch(new LaunchShape((uint)size.OutChannels, 1, 1, 256), null, new KernelArguments()
                .Pointer(DeviceTensors.Address(dy)).Pointer(DeviceTensors.Address(dbias)).Int(size.Batch).Int(size.OutChannels).Int(plane));
        if (dweight is not null)
        {
            if (size.Batch == 0 || plane == 0)
                dweight.Clear();
            using Tensor? columns = Columns(module, x, size);
            ulong source = columns is null ? DeviceTensors.Address(x) : DeviceTensors.Address(columns);
            // dweight [Cout, depth] = Σ_b dy_b [Cout, H·W] · columns_bᵀ (the columns are stored [depth, H·W]).
            for (int b = 0; b < size.Batch && plane > 0; b++)
                Cublas.Gemm(device, transposeA: false, transposeB: true, size.OutChannels, depth, plane, 1,
                    DeviceTensors.Address(dy) + (ulong)((long)b * size.OutChannels * plane * sizeof(float)), plane,
                    source + (ulong)((long)b * depth * plane * sizeof(float)), plane, b == 0 ? 0 : 1, DeviceTensors.Address(dweight), depth);
        }
        if (dx is null || dx.ElementCount == 0) return;
        // Column gradients [B, depth, H·W] = weightᵀ · dy_b; for k = 1 they are dx itself.
        using Tensor? gradients = size.Kernel == 1 ? null : Tensor.Empty([size.Batch, depth, plane], DType.F32, dx.Device);
        ulong target = gradients is null ? DeviceTensors.Address(dx) : DeviceTensors.Address(gradients);
        Cublas.GemmStridedBatched(device, transposeA: true, transposeB: false, depth, plane, size.OutChannels, 1,
            DeviceTensors.Address(weight), depth, 0, DeviceTensors.Address(dy), plane, (long)size.OutChannels * plane,
            0, target, plane, (long)depth * plane, size.Batch);
        if (gradients is not null)
            module.Kernel("conv_scatter").Launch(LaunchShapes.Elementwise(dx.ElementCount), null, new KernelArguments()
                .Pointer(target).Pointer(DeviceTensors.Address(dx)).Int(size.Batch).Int(size.InChannels).Int(size.Height).Int(size.Width).Int(size.Kernel));
    }

    /// <summary>The im2col columns [B, Cin·k·k, H·W] of x, or null for k = 1 (x is its own columns).</summary>
    private static Tensor? Columns(LoadedModule module, Tensor x, ConvSize size)
    {
        if (size.Kernel == 1 || x.ElementCount == 0) return null;
        var columns = Tensor.Empty([size.Batch, size.Depth, size.Height * size.Width], DType.F32, x.Device);
        module.Kernel("conv_gather").Launch(LaunchShapes.Elementwise(columns.ElementCount), null, new KernelArguments()
            .Pointer(DeviceTensors.Address(x)).Pointer(DeviceTensors.Address(columns))
            .Int(size.Batch).Int(size.InChannels).Int(size.Height).Int(size.Width).Int(size.Kernel));
        return columns;
    }
}
