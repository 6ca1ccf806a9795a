using ReClip.Runtime.Memory;
using ReClip.Runtime.Tensors;

namespace ReClip.Runtime.Cuda;

/// <summary>
/// The scratch memory cuBLAS and cuBLASLt get for their GEMMs (split sums and the like), one per device and lane: the
/// main stream's, and one for the work beside it (<see cref="StreamFork"/>), since two GEMMs running at once must not
/// share one. The two libraries share a lane's, as their GEMMs on one stream run one after another. Made on first use
/// outside a capture (a graph's GEMMs read it at every replay) and kept for the process.
/// </summary>
internal static class GemmWorkspace
{
    /// <summary>The workspace's size: cuBLAS's own default on Hopper.</summary>
    public const long Bytes = 32L << 20;

    private static readonly Dictionary<(int Device, bool Beside), DeviceStorage> workspaces = [];
    private static readonly Lock gate = new();

    /// <summary>The workspace of the lane this thread queues <paramref name="device"/>'s work on (<see cref="CaptureStream.Beside"/>).</summary>
    public static ulong For(int device)
    {
        var lane = (device, CaptureStream.Beside(device));
        lock (gate)
        {
            if (!workspaces.TryGetValue(lane, out DeviceStorage? workspace))
            {
                CaptureStream.Refuse(device, "allocating a GEMM workspace");
                workspaces[lane] = workspace = DeviceStorage.Allocate(Device.Cuda(device), Bytes);
            }
            return workspace.DevicePointer;
        }
    }
}
