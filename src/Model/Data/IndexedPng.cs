using System.Buffers.Binary;
using System.IO.Compression;
using System.IO.Hashing;
using ReClip.Runtime.IO;

namespace ReClip.Model.Data;

/// <summary>
/// Reads label PNGs as exact indices: a palette PNG (colour type 3, e.g. VOC's SegmentationClass) gives its palette
/// indices, as PIL's mode "P" does, and an 8-bit grayscale PNG (colour type 0) gives its values. SkiaSharp would
/// turn palette entries into colours, hence this small decoder: chunks with their CRCs checked, IDAT inflated with
/// zlib, the five PNG filters undone, Adam7's seven passes put in place when the image is interlaced. Indices beyond
/// the palette are kept as they are (the dataset reader checks label ranges). Palette bit depths 1, 2, 4 and 8 are
/// read, and 8- or 16-bit grayscale (16-bit values must fit a byte); sub-8-bit grayscale and colour types 2, 4, 6 are
/// refused. Every error is one line naming the file.
/// </summary>
public static class IndexedPng
{
    /// <summary>Images above this many pixels are refused before anything is allocated for them.</summary>
    public const long MaxPixels = 100_000_000;

    private static ReadOnlySpan<byte> Signature => [0x89, (byte)'P', (byte)'N', (byte)'G', 0x0D, 0x0A, 0x1A, 0x0A];

    /// <summary>A non-interlaced image is one pass over every pixel.</summary>
    private static readonly Pass[] Whole = [new(0, 0, 1, 1)];

    /// <summary>Adam7's passes: first column, first row, column step, row step (PNG spec §8.2).</summary>
    private static readonly Pass[] Adam7 =
        [new(0, 0, 8, 8), new(4, 0, 8, 8), new(0, 4, 4, 8), new(2, 0, 4, 4), new(0, 2, 2, 4), new(1, 0, 2, 2), new(0, 1, 1, 2)];

    public static LabelMap Read(string path)
    {
        InputFile.RequireFile(path);
        return Decode(File.ReadAllBytes(path), path);
    }

    /// <summary>Decodes PNG bytes; <paramref name="name"/> names the file in errors.</summary>
    public static LabelMap Decode(ReadOnlySpan<byte> png, string name)
    {
        if (png.Length < 8 || !png[..8].SequenceEqual(Signature))
            throw Bad(name, "not a PNG file (bad signature)");
        int position = 8;
        Header? header = null;
        bool palette = false, ended = false;
        using var compressed = new MemoryStream();
        while (!ended)
        {
            if (png.Length - position < 12)
                throw Bad(name, "truncated (a chunk runs past the end of the file)");
            uint length = BinaryPrimitives.ReadUInt32BigEndian(png[position..]);
            if (length > int.MaxValue || length > (uint)(png.Length - position - 12))
                throw Bad(name, "truncated (a chunk runs past the end of the file)");
            ReadOnlySpan<byte> typeAndData = png.Slice(position + 4, 4 + (int)length);
            uint stored = BinaryPrimitives.ReadUInt32BigEndian(png[(position + 8 + (int)length)..]);
            string type = System.Text.Encoding.ASCII.GetString(typeAndData[..4]);
            if (Crc32.HashToUInt32(typeAndData) != stored)
                throw Bad(name, $"CRC mismatch in chunk {type}");
            ReadOnlySpan<byte> data = typeAndData[4..];
            position += 12 + (int)length;
            if (header is null && type != "IHDR")
                throw Bad(name, $"the first chunk is {type}, not IHDR");
            switch (type)
            {
                case "IHDR":
                    if (header is not null)
                        throw Bad(name, "more than one IHDR chunk");
                    header = ParseHeader(data, name);
                    break;
                case "PLTE":
                    if (data.Length % 3 != 0 || data.Length == 0 || data.Length > 768)
                        throw Bad(name, $"PLTE chunk of {data.Length} bytes is not 1..256 RGB entries");
                    palette = true;
                    break;
                case "IDAT":
                    compressed.Write(data);
                    break;
                case "IEND":
                    ended = true;
                    break;
                default:
                    // Ancillary chunks (lower-case first letter: tRNS, gAMA, tEXt, ...) do not change the indices.
                    if (char.IsUpper(type[0]))
                        throw Bad(name, $"unknown critical chunk {type}");
                    break;
            }
        }
        Header h = header!.Value;
        if (h.ColourType == 3 && !palette)
            throw Bad(name, "palette image without a PLTE chunk");
        if (compressed.Length == 0)
            throw Bad(name, "no IDAT chunk");
        Pass[] passes = h.Interlaced ? Adam7 : Whole;
        byte[] raw = Inflate(compressed, passes.Sum(pass => pass.StoredBytes(h)), name);
        var labels = new LabelMap(h.Width, h.Height);
        int offset = 0;
        foreach (Pass pass in passes)
            offset = Unfilter(raw, offset, h, pass, labels, name);
        return labels;
    }

    private readonly record struct Header(int Width, int Height, int BitDepth, int ColourType, bool Interlaced)
    {
        public int RowBytes(int width) => (int)(((long)width * BitDepth + 7) / 8);

        public int FilterStride => Math.Max(1, BitDepth / 8);
    }

    /// <summary>The pixels (X0 + i·Dx, Y0 + j·Dy) of one pass, stored as an image of their own (filters restart with it).</summary>
    private readonly record struct Pass(int X0, int Y0, int Dx, int Dy)
    {
        public int Width(Header h) => h.Width > X0 ? (h.Width - X0 + Dx - 1) / Dx : 0;

        public int Height(Header h) => h.Height > Y0 ? (h.Height - Y0 + Dy - 1) / Dy : 0;

        /// <summary>Its filter bytes and rows; an empty pass stores nothing.</summary>
        public long StoredBytes(Header h) => Width(h) == 0 ? 0 : (long)(h.RowBytes(Width(h)) + 1) * Height(h);
    }

    private static Header ParseHeader(ReadOnlySpan<byte> data, string name)
    {
        if (data.Length != 13)
            throw Bad(name, $"IHDR chunk of {data.Length} bytes, not 13");
        uint width = BinaryPrimitives.ReadUInt32BigEndian(data), height = BinaryPrimitives.ReadUInt32BigEndian(data[4..]);
        int depth = data[8], colour = data[9];
        if (width == 0 || height == 0 || width > int.MaxValue || height > int.MaxValue)
            throw Bad(name, $"invalid size {width}x{height}");
        if ((long)width * height > MaxPixels)
            throw Bad(name, $"{width}x{height} exceeds the limit of {MaxPixels} pixels");
        if (data[10] != 0 || data[11] != 0)
            throw Bad(name, $"unknown compression method {data[10]} or filter method {data[11]}");
        if (data[12] > 1)
            throw Bad(name, $"unknown interlace method {data[12]}");
        bool supported = colour switch
        {
            3 => depth is 1 or 2 or 4 or 8,
            0 => depth is 8 or 16,
            _ => false,
        };
        if (!supported)
            throw Bad(name, $"colour type {colour} at bit depth {depth} is not a label PNG (expected palette, or 8- or 16-bit grayscale)");
        return new Header((int)width, (int)height, depth, colour, data[12] == 1);
    }

    private static byte[] Inflate(MemoryStream compressed, long expected, string name)
    {
        var raw = new byte[expected];
        compressed.Position = 0;
        try
        {
            using var zlib = new ZLibStream(compressed, CompressionMode.Decompress);
            int filled = 0;
            while (filled < raw.Length)
            {
                int n = zlib.Read(raw, filled, raw.Length - filled);
                if (n == 0)
                    throw Bad(name, $"truncated image data ({filled} of {expected} bytes)");
                filled += n;
            }
        }
        catch (InvalidDataException e) when (!e.Message.StartsWith(name, StringComparison.Ordinal))
        {
            throw Bad(name, $"corrupt image data ({e.Message})");
        }
        return raw;
    }

    /// <summary>Undoes the filters of one pass's rows, read from <paramref name="offset"/>, into its pixels of <paramref name="labels"/>; returns where the next pass starts.</summary>
    private static int Unfilter(byte[] raw, int offset, Header h, Pass pass, LabelMap labels, string name)
    {
        int width = pass.Width(h), height = pass.Height(h);
        if (width == 0)
            return offset;
        int rowBytes = h.RowBytes(width), stride = h.FilterStride;
        var previous = new byte[rowBytes];
        var current = new byte[rowBytes];
        for (int y = 0; y < height; y++, offset += rowBytes + 1)
        {
            byte filter = raw[offset];
            ReadOnlySpan<byte> line = raw.AsSpan(offset + 1, rowBytes);
            switch (filter)
            {
                case 0:
                    line.CopyTo(current);
                    break;
                case 1: // Sub
                    for (int i = 0; i < rowBytes; i++)
                        current[i] = (byte)(line[i] + (i >= stride ? current[i - stride] : 0));
                    break;
                case 2: // Up
                    for (int i = 0; i < rowBytes; i++)
                        current[i] = (byte)(line[i] + previous[i]);
                    break;
                case 3: // Average
                    for (int i = 0; i < rowBytes; i++)
                        current[i] = (byte)(line[i] + (((i >= stride ? current[i - stride] : 0) + previous[i]) >> 1));
                    break;
                case 4: // Paeth
                    for (int i = 0; i < rowBytes; i++)
                        current[i] = (byte)(line[i] + Paeth(i >= stride ? current[i - stride] : (byte)0, previous[i], i >= stride ? previous[i - stride] : (byte)0));
                    break;
                default:
                    throw Bad(name, $"unknown filter type {filter} on row {y}");
            }
            Span<byte> target = labels.Labels.AsSpan((pass.Y0 + y * pass.Dy) * h.Width);
            if (h.BitDepth == 8 && pass.Dx == 1)
                current.AsSpan(0, width).CopyTo(target);
            else
                for (int x = 0; x < width; x++)
                    target[pass.X0 + x * pass.Dx] = Sample(current, x, h.BitDepth, name, pass.X0 + x * pass.Dx, pass.Y0 + y * pass.Dy);
            (previous, current) = (current, previous);
        }
        return offset;
    }

    /// <summary>
    /// Sample <paramref name="x"/> of an unfiltered row: sub-byte samples packed most significant bits first (PNG spec
    /// §7.2), 16-bit ones big-endian, whose class indices must fit a byte as every dataset's do.
    /// </summary>
    private static byte Sample(byte[] row, int x, int depth, string name, int column, int line)
    {
        if (depth == 16)
        {
            int value = row[2 * x] << 8 | row[2 * x + 1];
            return value <= byte.MaxValue ? (byte)value : throw Bad(name, $"label value {value} at ({column}, {line}) does not fit the 8 bits of a class index");
        }
        if (depth == 8)
            return row[x];
        int perByte = 8 / depth;
        return (byte)((row[x / perByte] >> (8 - depth * (x % perByte + 1))) & ((1 << depth) - 1));
    }

    private static byte Paeth(byte a, byte b, byte c)
    {
        int p = a + b - c, pa = Math.Abs(p - a), pb = Math.Abs(p - b), pc = Math.Abs(p - c);
        return pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
    }

    private static InvalidDataException Bad(string name, string problem) => new($"{name}: {problem}");
}
