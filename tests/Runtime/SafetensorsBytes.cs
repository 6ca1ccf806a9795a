using System.Buffers.Binary;
using System.Text;

namespace ReClip.Tests.Runtime;

/// <summary>Safetensors files built byte by byte, so a test can state exactly which part of the format it breaks.</summary>
internal static class SafetensorsBytes
{
    /// <summary>A file whose header is <paramref name="headerJson"/> followed by <paramref name="dataBytes"/> bytes of counting data.</summary>
    public static byte[] File(string headerJson, int dataBytes = 0) =>
        File(Encoding.UTF8.GetBytes(headerJson), [.. Enumerable.Range(0, dataBytes).Select(i => (byte)i)]);

    public static byte[] File(byte[] header, byte[] data) => WithHeaderLength((ulong)header.Length, header, data);

    /// <summary>A file whose length prefix says <paramref name="headerLength"/>, whatever follows it.</summary>
    public static byte[] WithHeaderLength(ulong headerLength, byte[] header, byte[] data)
    {
        byte[] file = new byte[sizeof(ulong) + header.Length + data.Length];
        BinaryPrimitives.WriteUInt64LittleEndian(file, headerLength);
        header.CopyTo(file, sizeof(ulong));
        data.CopyTo(file, sizeof(ulong) + header.Length);
        return file;
    }
}
