using System.Buffers.Binary;
using System.Text;
using ReClip.Runtime.IO;

namespace ReClip.Runtime.Weights;

/// <summary>
/// Reads and checks every entry of a zip's central directory before anything is extracted: entry count,
/// names (no absolute paths, no '..', no backslashes, no duplicates), each local header and the place
/// of each entry's bytes inside the archive, and the declared sizes of compressed entries.
/// </summary>
internal static class ZipDirectory
{
    /// <summary>A checkpoint holds a few files per tensor; a quarter million entries is far beyond any model.</summary>
    public const int MaxEntries = 1 << 18;

    /// <summary>Deflate cannot expand data more than about 1032:1, so a larger declared ratio is a lie (a zip bomb).</summary>
    public const long MaxDeflateRatio = 1032;

    /// <summary>Inflated entries are copied into memory; no single checkpoint storage is larger than this.</summary>
    public const long MaxInflatedBytes = 16L << 30;

    private const uint CentralSignature = 0x02014b50;
    private const uint LocalSignature = 0x04034b50;
    private const int CentralHeaderLength = 46;
    private const int LocalHeaderLength = 30;
    private const int MaxNameLength = 1024;
    private const ushort Zip64ExtraId = 0x0001;
    private static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    public static IReadOnlyList<ZipEntry> Read(ReadOnlyMapping file, string path)
    {
        ZipEndRecord end = ZipEndRecord.Locate(file, path);
        if (end.EntryCount > MaxEntries)
            throw new WeightFileException(path, $"zip: {end.EntryCount} entries exceed the limit of {MaxEntries}");
        if (end.EntryCount * CentralHeaderLength > end.DirectorySize)
            throw new WeightFileException(path, $"zip: {end.EntryCount} entries cannot fit a {end.DirectorySize}-byte central directory");

        var entries = new List<ZipEntry>((int)end.EntryCount);
        var names = new HashSet<string>(StringComparer.Ordinal);
        long at = end.DirectoryOffset;
        long directoryEnd = end.DirectoryOffset + end.DirectorySize;
        for (long i = 0; i < end.EntryCount; i++)
        {
            ZipEntry entry = ReadEntry(file, path, ref at, directoryEnd, end.DirectoryOffset);
            if (!names.Add(entry.Name))
                throw new WeightFileException(path, $"zip: entry '{entry.Name}' appears twice");
            entries.Add(entry);
        }
        return entries;
    }

    private static ZipEntry ReadEntry(ReadOnlyMapping file, string path, ref long at, long directoryEnd, long dataEnd)
    {
        if (at > directoryEnd - CentralHeaderLength)
            throw new WeightFileException(path, "zip: the central directory ends inside an entry");
        ReadOnlySpan<byte> header = file.Span(at, CentralHeaderLength);
        if (BinaryPrimitives.ReadUInt32LittleEndian(header) != CentralSignature)
            throw new WeightFileException(path, $"zip: no central directory entry at offset {at}");
        ushort flags = BinaryPrimitives.ReadUInt16LittleEndian(header[8..]);
        ushort method = BinaryPrimitives.ReadUInt16LittleEndian(header[10..]);
        uint crc = BinaryPrimitives.ReadUInt32LittleEndian(header[16..]);
        long compressed = BinaryPrimitives.ReadUInt32LittleEndian(header[20..]);
        long uncompressed = BinaryPrimitives.ReadUInt32LittleEndian(header[24..]);
        int nameLength = BinaryPrimitives.ReadUInt16LittleEndian(header[28..]);
        int extraLength = BinaryPrimitives.ReadUInt16LittleEndian(header[30..]);
        int commentLength = BinaryPrimitives.ReadUInt16LittleEndian(header[32..]);
        long localOffset = BinaryPrimitives.ReadUInt32LittleEndian(header[42..]);
        long next = at + CentralHeaderLength + nameLength + extraLength + commentLength;
        if (next > directoryEnd)
            throw new WeightFileException(path, "zip: the central directory ends inside an entry");

        ReadOnlySpan<byte> nameBytes = file.Span(at + CentralHeaderLength, nameLength);
        string name = DecodeName(nameBytes, path);
        ReadZip64Sizes(file.Span(at + CentralHeaderLength + nameLength, extraLength), name, path,
            ref uncompressed, ref compressed, ref localOffset);
        at = next;

        long dataOffset = LocateData(file, path, name, nameBytes, localOffset, dataEnd);
        if (compressed < 0 || uncompressed < 0 || dataOffset > dataEnd - compressed)
            throw new WeightFileException(path, $"zip: entry '{name}' ({compressed} bytes at offset {dataOffset}) runs past the entry area");
        CheckSizes(path, name, method, compressed, uncompressed);
        return new ZipEntry(name, method, flags, dataOffset, compressed, uncompressed, crc);
    }

    private static string DecodeName(ReadOnlySpan<byte> bytes, string path)
    {
        if (bytes.Length == 0 || bytes.Length > MaxNameLength)
            throw new WeightFileException(path, $"zip: an entry name of {bytes.Length} bytes (allowed: 1 to {MaxNameLength})");
        string name;
        try
        {
            name = StrictUtf8.GetString(bytes);
        }
        catch (DecoderFallbackException e)
        {
            throw new WeightFileException(path, "zip: an entry name is not valid UTF-8", inner: e);
        }
        RequireRelativePath(name, path);
        return name;
    }

    /// <summary>Nothing here writes entries to disk, but a name that tries to leave the archive is a sign of a crafted file.</summary>
    private static void RequireRelativePath(string name, string path)
    {
        bool unsafeName = name.StartsWith('/') || name.Contains('\\') || name.Contains(':') || name.Any(char.IsControl);
        string[] segments = name.TrimEnd('/').Split('/');
        if (unsafeName || segments.Any(s => s.Length == 0 || s == "." || s == ".."))
            throw new WeightFileException(path, $"zip: entry name '{name.ReplaceLineEndings(" ")}' is not a plain relative path");
    }

    /// <summary>Sizes and offset that do not fit 32 bits are 0xFFFFFFFF in the header and follow, in this order, in the zip64 extra field.</summary>
    private static void ReadZip64Sizes(ReadOnlySpan<byte> extra, string name, string path,
        ref long uncompressed, ref long compressed, ref long localOffset)
    {
        const long Escape = uint.MaxValue;
        if (uncompressed != Escape && compressed != Escape && localOffset != Escape)
            return;
        while (extra.Length >= 4)
        {
            ushort id = BinaryPrimitives.ReadUInt16LittleEndian(extra);
            int length = BinaryPrimitives.ReadUInt16LittleEndian(extra[2..]);
            if (length > extra.Length - 4)
                break;
            ReadOnlySpan<byte> field = extra.Slice(4, length);
            if (id == Zip64ExtraId)
            {
                if (uncompressed == Escape) uncompressed = TakeInt64(ref field, name, path);
                if (compressed == Escape) compressed = TakeInt64(ref field, name, path);
                if (localOffset == Escape) localOffset = TakeInt64(ref field, name, path);
                return;
            }
            extra = extra[(4 + length)..];
        }
        throw new WeightFileException(path, $"zip: entry '{name}' needs a zip64 extra field and has none");
    }

    private static long TakeInt64(ref ReadOnlySpan<byte> field, string name, string path)
    {
        if (field.Length < 8)
            throw new WeightFileException(path, $"zip: entry '{name}' has a short zip64 extra field");
        long value = BinaryPrimitives.ReadInt64LittleEndian(field);
        field = field[8..];
        return value;
    }

    /// <summary>The data starts after the local header, whose extra field may differ from the central one (PyTorch pads it to align tensors).</summary>
    private static long LocateData(ReadOnlyMapping file, string path, string name, ReadOnlySpan<byte> nameBytes, long localOffset, long dataEnd)
    {
        if (localOffset < 0 || localOffset > dataEnd - LocalHeaderLength)
            throw new WeightFileException(path, $"zip: entry '{name}' has its local header outside the entry area (offset {localOffset})");
        ReadOnlySpan<byte> local = file.Span(localOffset, LocalHeaderLength);
        if (BinaryPrimitives.ReadUInt32LittleEndian(local) != LocalSignature)
            throw new WeightFileException(path, $"zip: entry '{name}' has no local header at offset {localOffset}");
        int nameLength = BinaryPrimitives.ReadUInt16LittleEndian(local[26..]);
        int extraLength = BinaryPrimitives.ReadUInt16LittleEndian(local[28..]);
        long dataOffset = localOffset + LocalHeaderLength + nameLength + extraLength;
        if (dataOffset > dataEnd || !file.Span(localOffset + LocalHeaderLength, nameLength).SequenceEqual(nameBytes))
            throw new WeightFileException(path, $"zip: the local header of entry '{name}' does not match the central directory");
        return dataOffset;
    }

    private static void CheckSizes(string path, string name, ushort method, long compressed, long uncompressed)
    {
        if (method == ZipEntry.Stored && compressed != uncompressed)
            throw new WeightFileException(path, $"zip: stored entry '{name}' declares {compressed} bytes in the archive but {uncompressed} bytes of content");
        if (method != ZipEntry.Deflated)
            return;
        if (uncompressed > MaxInflatedBytes)
            throw new WeightFileException(path, $"zip: entry '{name}' declares {uncompressed} inflated bytes, over the limit of {MaxInflatedBytes}");
        if (uncompressed > Math.Max(compressed, 1) * MaxDeflateRatio)
            throw new WeightFileException(path, $"zip: entry '{name}' declares {uncompressed} inflated bytes from {compressed} compressed bytes, more than deflate can produce (zip bomb?)");
    }
}
