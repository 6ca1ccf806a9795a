using ReClip.Kernels.Cuda;
using ReClip.Runtime.Cuda;
using ReClip.Runtime.Tensors;

namespace ReClip.Kernels.Ops;

/// <summary>
/// The CUDA launchers of Rectify (kernels/rectify.cu): 16×16 shared-memory GEMM tiles (the products are small), the
/// forward's subtraction fused into the tile store; the backward sums dRect over the batch into a scratch G first.
/// </summary>
public static partial class Rectify
{
    private const uint Tile = 16;

    private static void ForwardCuda(Tensor q, Tensor p, Tensor r, Tensor rect, int batch, int patches, int classes, int width)
    {
        int device = DeviceTensors.Require("Rectify", q, p, r, rect);
        if (batch == 0 || patches == 0 || classes == 0) return;
        KernelCache.Load(KernelSources.Get("rectify"), device).Kernel("rectify_forward").Launch(
            new LaunchShape(Tiles(classes), Tiles(patches), 1, Tile, Tile), null, new KernelArguments()
                .Pointer(DeviceTensors.Address(q)).Pointer(DeviceTensors.Address(p)).Pointer(DeviceTensors.Address(r))
                .Pointer(DeviceTensors.Address(rect)).Int(batch).Int(patches).Int(classes).Int(width));
    }

    private static void BackwardCuda(Tensor dRect, Tensor p, Tensor r, Tensor? dp, Tensor? dr, int batch, int patches, int classes, int width)
    {
        int device = DeviceTensors.Require("Rectify.Backward", dRect, p, r);
        if (dp is not null) DeviceTensors.Require("Rectify.Backward dp", [dRect, dp]);
        if (dr is not null) DeviceTensors.Require("Rectify.Backward dr", [dRect, dr]);
        if ((dp is null && dr is null) || width == 0) return;
        LoadedModule module = KernelCache.Load(KernelSources.Get("rectify"), device);
        long plane = (long)patches * classes;
        // G = Σ_b dRect[b], [N, C]; with B = 0 it is zeros, so both gradients come out zero (an empty sum), as on the CPU.
        using Tensor summed = Tensor.Empty([Math.Max(patches * classes, 1)], DType.F32, dRect.Device);
        module.Kernel("rectify_batch_sum").Launch(LaunchShape.Cover(plane, 256), null, new KernelArguments()
            .Pointer(DeviceTensors.Address(dRect)).Pointer(DeviceTensors.Address(summed)).Int(batch).Long(plane));
        CudaKernel gemm = module.Kernel("rectify_gemm_negated");
        // dP [N, E] = −G·R: A(n, c) = G[n·C + c], K = C.
        if (dp is not null && patches > 0)
            gemm.Launch(new LaunchShape(Tiles(width), Tiles(patches), 1, Tile, Tile), null, new KernelArguments()
                .Pointer(DeviceTensors.Address(summed)).Long(classes).Long(1).Pointer(DeviceTensors.Address(r))
                .Pointer(DeviceTensors.Address(dp)).Int(patches).Int(classes).Int(width));
        // dR [C, E] = −Gᵀ·P: A(c, n) = G[n·C + c], K = N.
        if (dr is not null && classes > 0)
            gemm.Launch(new LaunchShape(Tiles(width), Tiles(classes), 1, Tile, Tile), null, new KernelArguments()
                .Pointer(DeviceTensors.Address(summed)).Long(1).Long(classes).Pointer(DeviceTensors.Address(p))
                .Pointer(DeviceTensors.Address(dr)).Int(classes).Int(patches).Int(width));
    }

    private static uint Tiles(int count) => (uint)((count + Tile - 1) / Tile);
}
