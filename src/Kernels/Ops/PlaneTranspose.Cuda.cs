using ReClip.Kernels.Cuda;
using ReClip.Runtime.Cuda;
using ReClip.Runtime.Tensors;

namespace ReClip.Kernels.Ops;

/// <summary>The CUDA launcher of the plane transpose (kernels/planetranspose.cu): 32×32 tiles through shared memory, the planes over grid z.</summary>
public static partial class PlaneTranspose
{
    private const int Tile = 32, RowsPerThread = 8, MaxGridYZ = 65535;

    private static void ForwardCuda(Tensor source, Tensor destination, int planes, int rows, int columns)
    {
        if ((rows + Tile - 1) / Tile > MaxGridYZ)
            throw new NotSupportedException($"PlaneTranspose: {rows} rows per plane pass the grid's {MaxGridYZ} tiles of {Tile}");
        var shape = new LaunchShape((uint)((columns + Tile - 1) / Tile), (uint)((rows + Tile - 1) / Tile), (uint)Math.Min(planes, MaxGridYZ),
            Tile, RowsPerThread);
        KernelCache.Load(KernelSources.Get("planetranspose"), source.Device.Index).Kernel("plane_transpose").Launch(shape, null, new KernelArguments()
            .Pointer(DeviceTensors.Address(source)).Pointer(DeviceTensors.Address(destination)).Int(planes).Int(rows).Int(columns)
            .Long(source.Strides[0]).Long(source.Strides[1]).Long(destination.Strides[0]).Long(destination.Strides[1]));
    }
}
