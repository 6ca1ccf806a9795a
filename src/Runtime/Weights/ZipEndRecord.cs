using System.Buffers.Binary;
using ReClip.Runtime.IO;

namespace ReClip.Runtime.Weights;

/// <summary>
/// Where a zip's central directory lies, read from the end-of-central-directory record (and its zip64
/// form, which PyTorch always writes). Only single-disk archives without a trailing comment longer
/// than the format allows are accepted.
/// </summary>
internal readonly record struct ZipEndRecord(long DirectoryOffset, long DirectorySize, long EntryCount)
{
    private const uint EndSignature = 0x06054b50;
    private const uint Zip64LocatorSignature = 0x07064b50;
    private const uint Zip64EndSignature = 0x06064b50;
    private const int EndLength = 22;
    private const int Zip64LocatorLength = 20;
    private const int Zip64EndLength = 56;

    public static ZipEndRecord Locate(ReadOnlyMapping file, string path)
    {
        long end = FindEndRecord(file, path);
        ReadOnlySpan<byte> record = file.Span(end, EndLength);
        if (BinaryPrimitives.ReadUInt16LittleEndian(record[4..]) != 0 || BinaryPrimitives.ReadUInt16LittleEndian(record[6..]) != 0)
            throw new WeightFileException(path, "zip: multi-disk archives are not supported");
        long count = BinaryPrimitives.ReadUInt16LittleEndian(record[10..]);
        long size = BinaryPrimitives.ReadUInt32LittleEndian(record[12..]);
        long offset = BinaryPrimitives.ReadUInt32LittleEndian(record[16..]);
        long directoryEnd = end;

        long locator = end - Zip64LocatorLength;
        if (locator >= 0 && BinaryPrimitives.ReadUInt32LittleEndian(file.Span(locator, 4)) == Zip64LocatorSignature)
        {
            long zip64End = BinaryPrimitives.ReadInt64LittleEndian(file.Span(locator + 8, 8));
            if (zip64End < 0 || zip64End > locator - Zip64EndLength)
                throw new WeightFileException(path, $"zip: the zip64 end record offset {zip64End} lies outside the archive");
            ReadOnlySpan<byte> zip64 = file.Span(zip64End, Zip64EndLength);
            if (BinaryPrimitives.ReadUInt32LittleEndian(zip64) != Zip64EndSignature)
                throw new WeightFileException(path, $"zip: no zip64 end record at offset {zip64End}");
            count = BinaryPrimitives.ReadInt64LittleEndian(zip64[32..]);
            size = BinaryPrimitives.ReadInt64LittleEndian(zip64[40..]);
            offset = BinaryPrimitives.ReadInt64LittleEndian(zip64[48..]);
            directoryEnd = zip64End;
        }

        if (offset < 0 || size < 0 || offset > directoryEnd - size)
            throw new WeightFileException(path, $"zip: the central directory ({size} bytes at offset {offset}) lies outside the archive");
        if (count < 0)
            throw new WeightFileException(path, $"zip: the end record declares {count} entries");
        return new ZipEndRecord(offset, size, count);
    }

    /// <summary>
    /// Scans back over at most one maximal comment (65535 bytes) for the signature, and accepts it only
    /// where its comment length reaches exactly to the end of the file, so bytes inside a comment or an
    /// entry cannot pose as the record.
    /// </summary>
    private static long FindEndRecord(ReadOnlyMapping file, string path)
    {
        long lowest = Math.Max(0, file.Length - EndLength - ushort.MaxValue);
        for (long at = file.Length - EndLength; at >= lowest; at--)
        {
            ReadOnlySpan<byte> candidate = file.Span(at, EndLength);
            if (BinaryPrimitives.ReadUInt32LittleEndian(candidate) == EndSignature
                && at + EndLength + BinaryPrimitives.ReadUInt16LittleEndian(candidate[20..]) == file.Length)
                return at;
        }
        throw new WeightFileException(path, "not a zip archive (no end-of-central-directory record); the file may be truncated");
    }
}
