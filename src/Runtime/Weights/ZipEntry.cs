namespace ReClip.Runtime.Weights;

/// <summary>
/// One file inside a zip archive, as its central directory declares it and its local header confirms:
/// where its (possibly compressed) bytes start in the archive, how many there are, and the CRC-32 of its content.
/// </summary>
internal sealed record ZipEntry(string Name, ushort Method, ushort Flags, long DataOffset, long CompressedSize, long UncompressedSize, uint Crc32)
{
    public const ushort Stored = 0;
    public const ushort Deflated = 8;

    public bool IsEncrypted => (Flags & 1) != 0;
}
