using System.Buffers.Binary;
using System.IO.Compression;
using System.IO.Hashing;
using System.Text;
using ReClip.Model.Data;

namespace ReClip.Tests.Model.Data;

/// <summary>
/// A tiny PNG encoder for tests: palette or grayscale samples at any bit depth, each row written with a chosen
/// filter type, so that the reader's unfiltering and unpacking are checked against known indices.
/// </summary>
internal static class TestPng
{
    public static byte[] Encode(byte[,] samples, int bitDepth, int colourType, Func<int, int> filterOfRow, int paletteSize = 256, byte interlace = 0)
    {
        int height = samples.GetLength(0), width = samples.GetLength(1);
        int rowBytes = (width * bitDepth + 7) / 8, stride = Math.Max(1, bitDepth / 8);
        var raw = new MemoryStream();
        var previous = new byte[rowBytes];
        for (int y = 0; y < height; y++)
        {
            var row = new byte[rowBytes];
            int perByte = 8 / bitDepth;
            for (int x = 0; x < width; x++)
                if (bitDepth == 8)
                    row[x] = samples[y, x];
                else
                    row[x / perByte] |= (byte)(samples[y, x] << (8 - bitDepth * (x % perByte + 1)));
            int filter = filterOfRow(y);
            raw.WriteByte((byte)filter);
            for (int i = 0; i < rowBytes; i++)
            {
                int a = i >= stride ? row[i - stride] : 0, b = previous[i], c = i >= stride ? previous[i - stride] : 0;
                int predictor = filter switch
                {
                    0 => 0,
                    1 => a,
                    2 => b,
                    3 => (a + b) >> 1,
                    4 => Paeth(a, b, c),
                    _ => throw new ArgumentOutOfRangeException(nameof(filterOfRow)),
                };
                raw.WriteByte((byte)(row[i] - predictor));
            }
            previous = row;
        }
        var compressed = new MemoryStream();
        using (var zlib = new ZLibStream(compressed, CompressionLevel.Optimal, leaveOpen: true))
            zlib.Write(raw.ToArray());
        var png = new MemoryStream();
        png.Write([0x89, (byte)'P', (byte)'N', (byte)'G', 0x0D, 0x0A, 0x1A, 0x0A]);
        var header = new byte[13];
        BinaryPrimitives.WriteUInt32BigEndian(header, (uint)width);
        BinaryPrimitives.WriteUInt32BigEndian(header.AsSpan(4), (uint)height);
        header[8] = (byte)bitDepth;
        header[9] = (byte)colourType;
        header[12] = interlace;
        Chunk(png, "IHDR", header);
        if (colourType == 3)
        {
            // A VOC-like palette whose colours differ from the indices, so that a colour-converting decoder fails.
            var palette = new byte[paletteSize * 3];
            for (int i = 0; i < paletteSize; i++)
            {
                palette[i * 3] = (byte)(i * 37 + 128);
                palette[i * 3 + 1] = (byte)(i * 11 + 64);
                palette[i * 3 + 2] = (byte)(255 - i);
            }
            Chunk(png, "PLTE", palette);
        }
        Chunk(png, "tEXt", Encoding.ASCII.GetBytes("Comment\0test"));
        byte[] data = compressed.ToArray();
        int half = data.Length / 2; // Two IDAT chunks: the reader must concatenate them.
        Chunk(png, "IDAT", data[..half]);
        Chunk(png, "IDAT", data[half..]);
        Chunk(png, "IEND", []);
        return png.ToArray();
    }

    public static void Chunk(Stream png, string type, ReadOnlySpan<byte> data)
    {
        Span<byte> four = stackalloc byte[4];
        BinaryPrimitives.WriteUInt32BigEndian(four, (uint)data.Length);
        png.Write(four);
        byte[] typeAndData = [.. Encoding.ASCII.GetBytes(type), .. data];
        png.Write(typeAndData);
        BinaryPrimitives.WriteUInt32BigEndian(four, Crc32.HashToUInt32(typeAndData));
        png.Write(four);
    }

    public static byte[,] Pattern(int width, int height, int bitDepth, int seed)
    {
        var random = new Random(seed);
        var samples = new byte[height, width];
        for (int y = 0; y < height; y++)
            for (int x = 0; x < width; x++)
                samples[y, x] = (byte)random.Next(1 << bitDepth);
        return samples;
    }

    private static int Paeth(int a, int b, int c)
    {
        int p = a + b - c, pa = Math.Abs(p - a), pb = Math.Abs(p - b), pc = Math.Abs(p - c);
        return pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
    }
}
