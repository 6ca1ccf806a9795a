using System.Runtime.InteropServices;
using ReClip.Runtime.Cuda;
using ReClip.Runtime.Memory;
using ReClip.Runtime.Tensors;

namespace ReClip.Runtime.Collectives;

/// <summary>
/// The collective of one process per GPU through NCCL: rank 0 creates NCCL's unique id, the <see cref="Rendezvous"/>
/// hands it to every rank, and each joins the communicator on its device. The training step keeps its tensors on
/// the host, so each call stages the values through a device buffer: host → device, the NCCL collective on the
/// legacy default stream, device → host (the copies wait for the stream, so the values are complete on return).
/// NCCL sums in an order of its own, but hands every rank the same result.
/// </summary>
public sealed unsafe class NcclCollective : ICollective
{
    private readonly nint communicator;
    private readonly Device device;
    private DeviceStorage? staging;

    private NcclCollective(nint communicator, Device device, int rank, int worldSize)
    {
        this.communicator = communicator;
        this.device = device;
        Rank = rank;
        WorldSize = worldSize;
    }

    public int Rank { get; }

    public int WorldSize { get; }

    /// <summary>
    /// Joins the communicator: the GPU is <paramref name="rank"/> modulo the visible device count (ranks of one
    /// machine are consecutive). Fails at once with one line when NCCL or the driver is missing.
    /// </summary>
    public static NcclCollective Create(Rendezvous rendezvous)
    {
        ArgumentNullException.ThrowIfNull(rendezvous);
        RequireAvailable();
        var gpu = Device.Cuda(rendezvous.Rank % CudaDriver.DeviceCount());
        CudaDriver.MakeCurrent(gpu.Index);
        byte[] id = rendezvous.Share(CreateUniqueId);
        if (id.Length != NcclApi.UniqueIdBytes)
            throw new InvalidDataException($"the NCCL id from the rendezvous has {id.Length} bytes, not {NcclApi.UniqueIdBytes}");
        NcclApi.UniqueId unique = default;
        id.CopyTo(new Span<byte>(unique.Internal, NcclApi.UniqueIdBytes));
        Check(NcclApi.ncclCommInitRank(out nint communicator, rendezvous.WorldSize, unique, rendezvous.Rank), "ncclCommInitRank");
        rendezvous.Release();
        return new NcclCollective(communicator, gpu, rendezvous.Rank, rendezvous.WorldSize);
    }

    /// <summary>Throws <see cref="CudaUnavailableException"/> naming what is missing: libnccl, the driver, or a GPU.</summary>
    public static void RequireAvailable()
    {
        if (!NativeLibraries.Nccl.IsLoaded)
            throw new CudaUnavailableException($"data-parallel training needs NCCL: {NativeLibraries.Nccl.Problem}");
        if (!CudaDriver.IsAvailable)
            throw new CudaUnavailableException($"data-parallel training needs a CUDA GPU: {CudaDriver.UnavailableReason}");
    }

    public void AllReduceSum(Span<float> values)
    {
        nuint count = (nuint)values.Length;
        Run(MemoryMarshal.AsBytes(values), buffer => NcclApi.ncclAllReduce(buffer, buffer, count, NcclApi.Float32, NcclApi.Sum, communicator, 0), "ncclAllReduce");
    }

    public void AllReduceSum(Span<double> values)
    {
        nuint count = (nuint)values.Length;
        Run(MemoryMarshal.AsBytes(values), buffer => NcclApi.ncclAllReduce(buffer, buffer, count, NcclApi.Float64, NcclApi.Sum, communicator, 0), "ncclAllReduce");
    }

    public void Broadcast(Span<float> values, int root)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(root);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(root, WorldSize);
        nuint count = (nuint)values.Length;
        Run(MemoryMarshal.AsBytes(values), buffer => NcclApi.ncclBroadcast(buffer, buffer, count, NcclApi.Float32, root, communicator, 0), "ncclBroadcast");
    }

    /// <summary>An all-reduce of one value: it completes on no rank before every rank has joined it.</summary>
    public void Barrier() => AllReduceSum(stackalloc float[1]);

    public void Dispose()
    {
        staging?.Release();
        CudaDriver.MakeCurrent(device.Index);
        Check(NcclApi.ncclCommDestroy(communicator), "ncclCommDestroy");
    }

    private static byte[] CreateUniqueId()
    {
        NcclApi.UniqueId id;
        Check(NcclApi.ncclGetUniqueId(&id), "ncclGetUniqueId");
        return new ReadOnlySpan<byte>(id.Internal, NcclApi.UniqueIdBytes).ToArray();
    }

    /// <summary>Stages <paramref name="bytes"/> on the device, runs <paramref name="collective"/> in place there and copies the result back.</summary>
    private void Run(Span<byte> bytes, Func<ulong, int> collective, string call)
    {
        if (bytes.IsEmpty) return;
        if (staging is null || staging.ByteLength < bytes.Length)
        {
            staging?.Release();
            staging = DeviceStorage.Allocate(device, bytes.Length);
        }
        fixed (byte* host = bytes)
        {
            staging.CopyFromHost(host, 0, bytes.Length);
            Check(collective(staging.DevicePointer), call);
            CudaDriver.Check(DriverApi.cuStreamSynchronize(0), "cuStreamSynchronize");
            staging.CopyToHost(0, host, bytes.Length);
        }
    }

    private static void Check(int result, string call)
    {
        if (result != NcclApi.Success)
            throw new CudaException(call, result, Marshal.PtrToStringUTF8(NcclApi.ncclGetErrorString(result)) ?? $"ncclResult {result}");
    }
}
