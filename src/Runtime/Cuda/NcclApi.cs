using System.Runtime.InteropServices;

namespace ReClip.Runtime.Cuda;

/// <summary>Raw NCCL entry points (nccl.h). Call through <see cref="Collectives.NcclCollective"/>.</summary>
internal static unsafe partial class NcclApi
{
    /// <summary>NCCL_UNIQUE_ID_BYTES: the opaque id rank 0 creates and every rank passes to ncclCommInitRank.</summary>
    public const int UniqueIdBytes = 128;

    public const int Success = 0;       // ncclSuccess
    public const int Float32 = 7;       // ncclFloat32
    public const int Float64 = 8;       // ncclFloat64
    public const int Sum = 0;           // ncclSum

    [StructLayout(LayoutKind.Sequential)]
    public struct UniqueId
    {
        public fixed byte Internal[UniqueIdBytes];
    }

    [LibraryImport(NativeLibraries.NcclName)]
    public static partial int ncclGetUniqueId(UniqueId* uniqueId);

    [LibraryImport(NativeLibraries.NcclName)]
    public static partial int ncclCommInitRank(out nint comm, int worldSize, UniqueId commId, int rank);

    [LibraryImport(NativeLibraries.NcclName)]
    public static partial int ncclCommDestroy(nint comm);

    [LibraryImport(NativeLibraries.NcclName)]
    public static partial int ncclAllReduce(ulong sendBuffer, ulong receiveBuffer, nuint count, int dataType, int op, nint comm, nint stream);

    [LibraryImport(NativeLibraries.NcclName)]
    public static partial int ncclBroadcast(ulong sendBuffer, ulong receiveBuffer, nuint count, int dataType, int root, nint comm, nint stream);

    [LibraryImport(NativeLibraries.NcclName)]
    public static partial nint ncclGetErrorString(int result);
}
