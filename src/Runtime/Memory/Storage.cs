using ReClip.Runtime.Tensors;

namespace ReClip.Runtime.Memory;

/// <summary>
/// A block of bytes on one device, shared by every tensor view of it. Reference counted so a view
/// can outlive the tensor it was cut from and the block is released exactly once, when the last
/// holder lets go.
/// </summary>
public abstract class Storage
{
    private int references = 1;

    protected Storage(long byteLength, Device device)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(byteLength);
        ByteLength = byteLength;
        Device = device;
    }

    public long ByteLength { get; }

    public Device Device { get; }

    public bool IsReleased => Volatile.Read(ref references) <= 0;

    internal void Retain()
    {
        int before;
        do
        {
            before = Volatile.Read(ref references);
            if (before <= 0)
                throw new ObjectDisposedException(GetType().Name, "the storage was already released");
        }
        while (Interlocked.CompareExchange(ref references, before + 1, before) != before);
    }

    internal void Release()
    {
        int after = Interlocked.Decrement(ref references);
        if (after == 0)
            Free();
        else if (after < 0)
            throw new ObjectDisposedException(GetType().Name, "the storage was released twice");
    }

    protected abstract void Free();
}
