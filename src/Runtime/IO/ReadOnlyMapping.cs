using System.IO.MemoryMappedFiles;

namespace ReClip.Runtime.IO;

/// <summary>
/// A whole file mapped into memory, never written, and reference counted: the opener holds one reference
/// and every zero-copy tensor borrowed from the file holds a <see cref="Lease"/>, so the mapping outlives
/// the reader that created it and is unmapped exactly once, when the last holder lets go.
/// </summary>
internal sealed unsafe class ReadOnlyMapping : IDisposable
{
    private readonly MemoryMappedFile file;
    private readonly MemoryMappedViewAccessor view;
    private int references = 1;
    private int openerReleased;

    private ReadOnlyMapping(MemoryMappedFile file, MemoryMappedViewAccessor view, long length)
    {
        this.file = file;
        this.view = view;
        Length = length;
        byte* pointer = null;
        view.SafeMemoryMappedViewHandle.AcquirePointer(ref pointer);
        Pointer = pointer + view.PointerOffset;
    }

    public byte* Pointer { get; }

    public long Length { get; }

    /// <summary>
    /// Maps <paramref name="path"/>, opened for reading only. The pages are copy-on-write: a caller that writes
    /// into a zero-copy tensor gets private copies of the pages it touches, where a read-only mapping would
    /// crash the process, and the file itself never changes. (Mapping by path in copy-on-write mode would ask
    /// for write access to the file, so the stream is opened here.) An empty file cannot be mapped, so
    /// callers check the length first.
    /// </summary>
    public static ReadOnlyMapping Open(string path, long length)
    {
        var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read);
        MemoryMappedFile? file = null;
        try
        {
            file = MemoryMappedFile.CreateFromFile(stream, mapName: null, 0, MemoryMappedFileAccess.CopyOnWrite, HandleInheritability.None, leaveOpen: false);
            MemoryMappedViewAccessor view = file.CreateViewAccessor(0, length, MemoryMappedFileAccess.CopyOnWrite);
            return new ReadOnlyMapping(file, view, length);
        }
        catch
        {
            if (file is null) stream.Dispose();
            else file.Dispose();
            throw;
        }
    }

    public ReadOnlySpan<byte> Span(long offset, int length)
    {
        if (offset < 0 || length < 0 || offset > Length - length)
            throw new ArgumentOutOfRangeException(nameof(offset), $"bytes [{offset}, {offset + length}) lie outside the {Length}-byte mapping");
        return new ReadOnlySpan<byte>(Pointer + offset, length);
    }

    /// <summary>Another reference to the mapping, released by disposing the lease (once).</summary>
    public IDisposable Lease()
    {
        int before;
        do
        {
            before = Volatile.Read(ref references);
            ObjectDisposedException.ThrowIf(before <= 0, this);
        }
        while (Interlocked.CompareExchange(ref references, before + 1, before) != before);
        return new MappingLease(this);
    }

    /// <summary>Releases the opener's reference (once); leases keep the mapping alive.</summary>
    public void Dispose()
    {
        if (Interlocked.Exchange(ref openerReleased, 1) == 0)
            Release();
    }

    private void Release()
    {
        if (Interlocked.Decrement(ref references) != 0)
            return;
        view.SafeMemoryMappedViewHandle.ReleasePointer();
        view.Dispose();
        file.Dispose();
    }

    private sealed class MappingLease(ReadOnlyMapping mapping) : IDisposable
    {
        private int released;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref released, 1) == 0)
                mapping.Release();
        }
    }
}
