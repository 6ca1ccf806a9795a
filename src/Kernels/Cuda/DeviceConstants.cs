using System.Runtime.InteropServices;
using ReClip.Runtime.Cuda;
using ReClip.Runtime.Tensors;

namespace ReClip.Kernels.Cuda;

/// <summary>
/// Small read-only lists that kernels read (gather indices, slot ids, resize taps, a hypothesis's class ids), copied to a
/// device once per content and kept. A training step asks for the same few lists every time, and each upload is a
/// synchronous copy that first waits for all the work queued before it: uploading them anew stalled the host behind the
/// GPU about ten times per step, where the host should be queueing the next kernels. The least recently used lists are
/// dropped beyond <see cref="MaxEntries"/>; a list of more than <see cref="MaxBytes"/> bytes is uploaded and not kept.
/// What <see cref="Get"/> returns is shared: kernels must only read it. A CUDA graph captured with a list holds it while
/// the graph lives, so dropping it here never frees what a replay reads.
/// </summary>
internal static class DeviceConstants
{
    public const int MaxBytes = 16 * 1024, MaxEntries = 1024;

    private static readonly Lock gate = new();
    private static readonly Dictionary<(Device Device, DType DType, string Content), LinkedListNode<Entry>> entries = [];
    private static readonly LinkedList<Entry> recency = new();

    /// <summary>The list on <paramref name="device"/>, as a reference of the caller's own to dispose (the kept copy stays).</summary>
    public static Tensor Get<T>(ReadOnlySpan<T> values, Device device) where T : unmanaged
    {
        ReadOnlySpan<byte> bytes = MemoryMarshal.AsBytes(values);
        if (bytes.Length > MaxBytes)
            return DeviceTensors.Upload(values, device);
        var key = (device, DTypeInfo.Of<T>(), Convert.ToBase64String(bytes));
        lock (gate)
        {
            if (entries.TryGetValue(key, out LinkedListNode<Entry>? node))
            {
                recency.Remove(node);
                recency.AddFirst(node);
                // A graph being captured reads it at every replay, long after this call: it holds the list as long.
                CudaGraph.HoldWhileCapturing(node.Value.Tensor);
                return node.Value.Tensor.Contiguous();
            }
            // During a capture this upload is refused (a copy from the host), before anything is kept.
            Tensor kept = DeviceTensors.Upload(values, device);
            entries[key] = recency.AddFirst(new Entry(key, kept));
            // Not while work runs beside the main stream (StreamFork): a list freed in one stream's order could still be
            // read by the other's queued kernels. Those kept meanwhile go at the next insertion after the join.
            while (recency.Last is { } oldest && entries.Count > MaxEntries && !StreamFork.IsOpen(device))
            {
                recency.RemoveLast();
                entries.Remove(oldest.Value.Key);
                // A kernel queued with it still holds its own reference; the memory goes when that is disposed too.
                oldest.Value.Tensor.Dispose();
            }
            return kept.Contiguous();
        }
    }

    /// <summary>How many lists are kept, for the tests.</summary>
    internal static int Count
    {
        get
        {
            lock (gate) return entries.Count;
        }
    }

    private sealed record Entry((Device Device, DType DType, string Content) Key, Tensor Tensor);
}
