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
/// kept in 8-byte slots (device pointers, 32-bit ints and floats), at most <see cref="Capacity"/>, with the
/// size each declares (8 or 4 bytes) for the check against the kernel's parameters (<see cref="KernelParameters"/>).
/// </summary>
public unsafe struct KernelArguments
{
    public const int Capacity = 32;

    private fixed ulong slots[Capacity];
    private fixed byte sizes[Capacity];
    private int count;

    public readonly int Count => count;

    public KernelArguments Pointer(ulong devicePointer) => Put(devicePointer, sizeof(ulong));

    public KernelArguments Int(int value) => Put((uint)value, sizeof(int));

    public KernelArguments Long(long value) => Put((ulong)value, sizeof(long));

    public KernelArguments Float(float value) => Put(BitConverter.SingleToUInt32Bits(value), sizeof(float));

    /// <summary>Whether the arguments' sizes are <paramref name="parameterSizes"/>, one to one.</summary>
    public readonly bool Fit(ReadOnlySpan<int> parameterSizes)
    {
        if (parameterSizes.Length != count)
            return false;
        for (int i = 0; i < count; i++)
            if (sizes[i] != parameterSizes[i])
                return false;
        return true;
    }

    /// <summary>The byte size of each argument, in order.</summary>
    public readonly int[] Sizes()
    {
        var result = new int[count];
        for (int i = 0; i < count; i++)
            result[i] = sizes[i];
        return result;
    }

    private KernelArguments Put(ulong bits, byte size)
    {
        if (count == Capacity)
            throw new InvalidOperationException($"a kernel takes at most {Capacity} arguments here");
        KernelArguments copy = this;
        copy.sizes[copy.count] = size;
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

    /// <summary>The byte sizes of the kernel's parameters, or null where the driver cannot report them.</summary>
    private readonly int[]? parameterSizes;

    internal CudaKernel(int device, nint function, string name)
    {
        Device = device;
        this.function = function;
        Name = name;
        parameterSizes = KernelParameters.Read(function);
    }

    public int Device { get; }

    public string Name { get; }

    /// <summary>Whether launches are checked against the kernel's parameters (the driver reports them from CUDA 12.4).</summary>
    public bool ChecksArguments => parameterSizes is not null;

    /// <summary>Queues the kernel on <paramref name="stream"/> (null: where the runtime queues, the legacy default stream or a capture's: <see cref="CaptureStream"/>).</summary>
    public void Launch(LaunchShape shape, CudaStream? stream, KernelArguments arguments)
    {
        if (parameterSizes is not null && !arguments.Fit(parameterSizes))
            throw new ArgumentException(KernelParameters.Mismatch(Name, parameterSizes, arguments.Sizes()), nameof(arguments));
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
