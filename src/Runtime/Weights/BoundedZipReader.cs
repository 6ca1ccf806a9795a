using System.Collections.Concurrent;
using System.IO.Compression;
using ReClip.Runtime.IO;
using ReClip.Runtime.Memory;

namespace ReClip.Runtime.Weights;

/// <summary>
/// Reads entries of a memory-mapped zip archive within fixed bounds. Our own reader rather than
/// System.IO.Compression.ZipArchive because a checkpoint's storages must come out zero-copy (PyTorch
/// writes them stored and 64-byte aligned, so a tensor can point straight into the mapped file) and
/// because every size, offset and name must be checked before a byte is extracted, which ZipArchive
/// does lazily and only in part. Deflated entries (an archive re-zipped by another tool) are inflated
/// into memory, never past the size their directory entry declares. Every entry's content is checked
/// against the CRC-32 its directory entry records before it is used, so a flipped byte in a weight is
/// an error rather than a silently different model; PyTorch can be told to record none
/// (<c>torch.serialization.set_crc32_options(False)</c>), and its 0 is then no checksum.
/// </summary>
internal sealed unsafe class BoundedZipReader : IDisposable
{
    private readonly ReadOnlyMapping file;
    private readonly Dictionary<string, ZipEntry> byName;

    /// <summary>
    /// Entries whose content matched their CRC-32. Many tensors can view one storage, and the mapping's bytes do not
    /// change, so each entry is checked once (tensors may be loaded from several threads).
    /// </summary>
    private readonly ConcurrentDictionary<string, bool> intact = new(StringComparer.Ordinal);

    /// <summary>The CRC field of an archive written without checksums; content whose CRC-32 is truly 0 (1 in 2³²) goes unchecked with it.</summary>
    private const uint NotRecorded = 0;

    /// <summary>Takes over the opener's reference to <paramref name="file"/>.</summary>
    public BoundedZipReader(ReadOnlyMapping file, string path)
    {
        this.file = file;
        Path = path;
        Entries = ZipDirectory.Read(file, path);
        byName = Entries.ToDictionary(e => e.Name, StringComparer.Ordinal);
    }

    public string Path { get; }

    public IReadOnlyList<ZipEntry> Entries { get; }

    public ZipEntry? Find(string name) => byName.GetValueOrDefault(name);

    /// <summary>The whole content of a small entry (a pickle, a version string), copied.</summary>
    public byte[] ReadRecord(ZipEntry entry, long maxBytes)
    {
        RequireReadable(entry);
        if (entry.UncompressedSize > maxBytes)
            throw new WeightFileException(Path, $"zip: entry '{entry.Name}' has {entry.UncompressedSize} bytes, over the limit of {maxBytes} for a record");
        byte[] content = new byte[entry.UncompressedSize];
        fixed (byte* destination = content)
            CopyContent(entry, destination);
        return content;
    }

    /// <summary>
    /// The entry's bytes as host storage: borrowed from the mapping when the entry is stored and its start
    /// is aligned to <paramref name="alignment"/>, otherwise copied (inflated) into a pooled block.
    /// </summary>
    public HostStorage OpenStorage(ZipEntry entry, int alignment)
    {
        RequireReadable(entry);
        byte* start = file.Pointer + entry.DataOffset;
        if (entry.Method == ZipEntry.Stored && (nuint)start % (nuint)alignment == 0)
        {
            RequireIntact(entry, start);
            return HostStorage.Borrow(start, entry.UncompressedSize, file.Lease());
        }
        HostStorage copy = HostStorage.Allocate(entry.UncompressedSize);
        try
        {
            CopyContent(entry, copy.Pointer);
            return copy;
        }
        catch
        {
            copy.Release();
            throw;
        }
    }

    /// <summary>Checks every entry that records a CRC-32 (inflating the deflated ones); returns how many did.</summary>
    public int RequireAllIntact()
    {
        int verified = 0;
        foreach (ZipEntry entry in Entries.Where(e => e.Crc32 != NotRecorded))
        {
            // Opening checks the content: borrowed from the mapping when stored, inflated into a copy otherwise.
            OpenStorage(entry, alignment: 1).Release();
            verified++;
        }
        return verified;
    }

    public void Dispose() => file.Dispose();

    private void RequireReadable(ZipEntry entry)
    {
        if (entry.IsEncrypted)
            throw new WeightFileException(Path, $"zip: entry '{entry.Name}' is encrypted");
        if (entry.Method is not (ZipEntry.Stored or ZipEntry.Deflated))
            throw new WeightFileException(Path, $"zip: entry '{entry.Name}' uses compression method {entry.Method}; only stored (0) and deflate (8) are read");
    }

    private void CopyContent(ZipEntry entry, byte* destination)
    {
        byte* source = file.Pointer + entry.DataOffset;
        if (entry.Method == ZipEntry.Stored)
            Buffer.MemoryCopy(source, destination, entry.UncompressedSize, entry.UncompressedSize);
        else
            InflateChecked(entry, source, destination);
        RequireIntact(entry, destination);
    }

    private void InflateChecked(ZipEntry entry, byte* source, byte* destination)
    {
        try
        {
            Inflate(entry, source, destination);
        }
        catch (InvalidDataException e)
        {
            throw new WeightFileException(Path, $"zip: entry '{entry.Name}' is not valid deflate data", inner: e);
        }
    }

    /// <summary>The entry's content (stored or inflated) against the CRC-32 of its central directory entry.</summary>
    private void RequireIntact(ZipEntry entry, byte* content)
    {
        if (entry.Crc32 == NotRecorded || intact.ContainsKey(entry.Name))
            return;
        uint actual = ContentCrc32.Of(content, entry.UncompressedSize);
        if (actual != entry.Crc32)
            throw new WeightFileException(Path,
                $"zip: entry '{entry.Name}' fails its CRC-32 check ({entry.UncompressedSize} bytes give {actual:x8}, its directory entry says {entry.Crc32:x8}): the file is corrupt");
        intact.TryAdd(entry.Name, true);
    }

    /// <summary>Inflates exactly the declared size and no more: output beyond it is a zip bomb or a corrupt entry.</summary>
    private void Inflate(ZipEntry entry, byte* source, byte* destination)
    {
        using var compressed = new UnmanagedMemoryStream(source, entry.CompressedSize);
        using var inflater = new DeflateStream(compressed, CompressionMode.Decompress);
        long filled = 0;
        while (filled < entry.UncompressedSize)
        {
            int chunk = (int)Math.Min(entry.UncompressedSize - filled, 1 << 20);
            int read = inflater.Read(new Span<byte>(destination + filled, chunk));
            if (read == 0)
                throw new WeightFileException(Path, $"zip: entry '{entry.Name}' inflates to {filled} bytes, not the {entry.UncompressedSize} it declares");
            filled += read;
        }
        Span<byte> probe = stackalloc byte[1];
        if (inflater.Read(probe) != 0)
            throw new WeightFileException(Path, $"zip: entry '{entry.Name}' inflates beyond the {entry.UncompressedSize} bytes it declares");
    }
}
