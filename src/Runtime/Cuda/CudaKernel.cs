namespace ReClip.Runtime.Cuda;

/// <summary>Grid and block sizes of a launch.</summary>
public readonly record struct LaunchShape(uint GridX, uint GridY, uint GridZ, uint BlockX, uint BlockY = 1, uint BlockZ = 1, uint SharedBytes = 0)
{
    /// <summary>Enough blocks of <paramref name="block"/> threads to cover <paramref name="count"/> items in one dimension.</summary>
    public static LaunchShape Cover(long count, uint block, uint sharedBytes = 0) =>
        new((uint)Math.Max(1, (count + block - 1) / block), 1, 1, block, SharedBytes: sharedBytes);
}

/// <summary>
/// A kernel's arguments as cuLaunchKernel wants them: an array of pointers to each value. Values are
/// kept in 8-byte slots (device pointers, 32-bit ints and floats), at most <see cref="Capacity"/>.
/// </summary>
public unsafe struct KernelArguments
{
    public const int Capacity = 32;

    private fixed ulong slots[Capacity];
    private int count;

    public readonly int Count => count;

    public KernelArguments Pointer(ulong devicePointer) => Put(devicePointer);

    public KernelArguments Int(int value) => Put((uint)value);

    public KernelArguments Long(long value) => Put((ulong)value);

    public KernelArguments Float(float value) => Put(BitConverter.SingleToUInt32Bits(value));

    private KernelArguments Put(ulong bits)
    {
        if (count == Capacity)
            throw new InvalidOperationException($"a kernel takes at most {Capacity} arguments here");
        KernelArguments copy = this;
        copy.slots[copy.count++] = bits;
        return copy;
    }

    internal readonly void Launch(nint function, LaunchShape shape, nint stream, string name)
    {
        KernelArguments local = this;
        ulong* values = local.slots;
        void** pointers = stackalloc void*[Capacity];
        for (int i = 0; i < local.count; i++)
            pointers[i] = values + i;
        int status = DriverApi.cuLaunchKernel(function, shape.GridX, shape.GridY, shape.GridZ, shape.BlockX, shape.BlockY, shape.BlockZ,
            shape.SharedBytes, stream, pointers, null);
        if (status != 0)
            throw new CudaException("cuLaunchKernel", status, CudaDriver.StatusName(status), name);
    }
}

/// <summary>One kernel function of a loaded module.</summary>
public sealed class CudaKernel
{
    private readonly nint function;

    internal CudaKernel(int device, nint function, string name)
    {
        Device = device;
        this.function = function;
        Name = name;
    }

    public int Device { get; }

    public string Name { get; }

    /// <summary>Queues the kernel on <paramref name="stream"/> (null: where the runtime queues, the legacy default stream or a capture's: <see cref="CaptureStream"/>).</summary>
    public void Launch(LaunchShape shape, CudaStream? stream, KernelArguments arguments)
    {
        CudaDriver.MakeCurrent(Device);
        nint handle = stream?.Handle ?? CaptureStream.For(Device);
        using KernelProfile.Bracket timed = KernelProfile.Time(Device, handle, Name);
        arguments.Launch(function, shape, handle, Name);
    }

    /// <summary>How many blocks of <paramref name="blockSize"/> threads fit on one multiprocessor at once.</summary>
    public int ActiveBlocksPerMultiprocessor(int blockSize, int dynamicSharedBytes = 0)
    {
        CudaDriver.MakeCurrent(Device);
        CudaDriver.Check(DriverApi.cuOccupancyMaxActiveBlocksPerMultiprocessor(out int blocks, function, blockSize, (nuint)dynamicSharedBytes), "cuOccupancyMaxActiveBlocksPerMultiprocessor");
        return blocks;
    }
}
