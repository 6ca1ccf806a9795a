using System.Numerics;
using System.Runtime.InteropServices;

namespace ReClip.Runtime.Memory;

/// <summary>
/// A caching allocator for host tensors. Blocks are 64-byte aligned (one cache line, one AVX-512
/// register) and rounded up to a size class (a power of two split in four steps, so at most 25% is
/// wasted), so the activations of one step are reused by the next without going back to the system
/// allocator. Cached bytes are capped; beyond the cap blocks are freed.
/// </summary>
public sealed unsafe class HostMemoryPool
{
    public const int Alignment = 64;
    private readonly Dictionary<long, Stack<nint>> buckets = [];
    private readonly Lock gate = new();
    private long cachedBytes;
    private long liveBytes;
    private long peakLiveBytes;

    public HostMemoryPool(long cacheLimitBytes)
    {
        CacheLimitBytes = cacheLimitBytes;
    }

    public static HostMemoryPool Shared { get; } = new(cacheLimitBytes: 2L << 30);

    public long CacheLimitBytes { get; }

    public long CachedBytes { get { lock (gate) return cachedBytes; } }

    public long LiveBytes { get { lock (gate) return liveBytes; } }

    public long PeakLiveBytes { get { lock (gate) return peakLiveBytes; } }

    public byte* Rent(long byteLength)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(byteLength);
        long blockBytes = SizeClass(byteLength);
        lock (gate)
        {
            liveBytes += blockBytes;
            peakLiveBytes = Math.Max(peakLiveBytes, liveBytes);
            if (buckets.TryGetValue(blockBytes, out Stack<nint>? stack) && stack.TryPop(out nint cached))
            {
                cachedBytes -= blockBytes;
                return (byte*)cached;
            }
        }
        try
        {
            return (byte*)NativeMemory.AlignedAlloc((nuint)blockBytes, Alignment);
        }
        catch (OutOfMemoryException)
        {
            // The cache may hold enough idle blocks to make room: free them and try once more.
            Trim();
            try
            {
                return (byte*)NativeMemory.AlignedAlloc((nuint)blockBytes, Alignment);
            }
            catch (OutOfMemoryException)
            {
                lock (gate) liveBytes -= blockBytes;
                throw new OutOfMemoryException($"host memory: cannot allocate {blockBytes:N0} bytes for a tensor");
            }
        }
    }

    public void Return(byte* pointer, long byteLength)
    {
        long blockBytes = SizeClass(byteLength);
        lock (gate)
        {
            liveBytes -= blockBytes;
            if (cachedBytes + blockBytes <= CacheLimitBytes)
            {
                if (!buckets.TryGetValue(blockBytes, out Stack<nint>? stack))
                    buckets[blockBytes] = stack = new Stack<nint>();
                stack.Push((nint)pointer);
                cachedBytes += blockBytes;
                return;
            }
        }
        NativeMemory.AlignedFree(pointer);
    }

    /// <summary>Frees every cached block (live blocks are untouched).</summary>
    public void Trim()
    {
        lock (gate)
        {
            foreach (Stack<nint> stack in buckets.Values)
                while (stack.TryPop(out nint block))
                    NativeMemory.AlignedFree((void*)block);
            cachedBytes = 0;
        }
    }

    /// <summary>Rounds up to 64 bytes, or above that to a quarter of the enclosing power of two.</summary>
    internal static long SizeClass(long byteLength)
    {
        if (byteLength <= Alignment)
            return Alignment;
        if (byteLength > 1L << 46)
            throw new OutOfMemoryException($"host memory: a tensor of {byteLength:N0} bytes is larger than any supported block");
        int exponent = 63 - BitOperations.LeadingZeroCount((ulong)(byteLength - 1));
        long step = Math.Max(Alignment, 1L << (exponent - 2));
        return (byteLength + step - 1) / step * step;
    }
}
