using System.IO.Hashing;

namespace ReClip.Runtime.Weights;

/// <summary>
/// The CRC-32 (zip's and zlib's: reflected polynomial 0xEDB88320) of a block of memory of any length: spans are
/// int-sized, so a block over 1 GiB is hashed in pieces. It is what a weight file's own checksum is compared with.
/// </summary>
internal static unsafe class ContentCrc32
{
    private const int Piece = 1 << 30;

    public static uint Of(byte* content, long length)
    {
        var crc = new Crc32();
        for (long at = 0; at < length; at += Piece)
            crc.Append(new ReadOnlySpan<byte>(content + at, (int)Math.Min(Piece, length - at)));
        return crc.GetCurrentHashAsUInt32();
    }
}
