using ReClip.Runtime.Tensors;

namespace ReClip.Runtime.Memory;

/// <summary>
/// Host bytes behind a raw pointer: a pooled 64-byte aligned block, or memory owned by someone else
/// (a memory-mapped weight file) that is kept alive through <see cref="owner"/> until the last view is gone.
/// </summary>
public sealed unsafe class HostStorage : Storage
{
    private readonly IDisposable? owner;
    private readonly bool pooled;

    private HostStorage(byte* pointer, long byteLength, IDisposable? owner, bool pooled)
        : base(byteLength, Device.Cpu)
    {
        Pointer = pointer;
        this.owner = owner;
        this.pooled = pooled;
    }

    public byte* Pointer { get; }

    /// <summary>A fresh block from the host pool; its contents are undefined.</summary>
    public static HostStorage Allocate(long byteLength) =>
        new(HostMemoryPool.Shared.Rent(byteLength), byteLength, owner: null, pooled: true);

    /// <summary>Wraps memory that <paramref name="owner"/> keeps valid; the owner is disposed with the last view.</summary>
    public static HostStorage Borrow(byte* pointer, long byteLength, IDisposable? owner) =>
        new(pointer, byteLength, owner, pooled: false);

    protected override void Free()
    {
        if (pooled)
            HostMemoryPool.Shared.Return(Pointer, ByteLength);
        owner?.Dispose();
    }
}
