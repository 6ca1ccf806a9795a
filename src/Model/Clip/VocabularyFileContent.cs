using System.Buffers.Binary;
using System.IO.Compression;
using System.Text;
using ReClip.Runtime.IO;

namespace ReClip.Model.Clip;

/// <summary>
/// Reads a tokenizer file, plain or gzip-compressed (told apart by its first two bytes, not its name), and turns
/// every way it can be broken into an <see cref="InvalidDataException"/> that names the file.
/// </summary>
internal static class VocabularyFileContent
{
    /// <summary>The smallest gzip member: a 10-byte header, an empty deflate block, the 8-byte trailer.</summary>
    private const int SmallestGzipLength = 20;

    private static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    /// <summary>The file's bytes, decompressed when it is gzip. A missing file is a <see cref="FileNotFoundException"/>.</summary>
    public static byte[] ReadBytes(string path)
    {
        InputFile.RequireFile(path);
        return Decompress(File.ReadAllBytes(path), path);
    }

    /// <summary>The bytes of an embedded or otherwise opened file; <paramref name="source"/> names it in errors.</summary>
    public static byte[] ReadBytes(Stream stream, string source)
    {
        using var buffer = new MemoryStream();
        stream.CopyTo(buffer);
        return Decompress(buffer.ToArray(), source);
    }

    /// <summary>The file as text; see <see cref="DecodeText"/>.</summary>
    public static string ReadText(string path) => DecodeText(ReadBytes(path), path);

    /// <summary>UTF-8 text without a leading byte-order mark; anything that is not UTF-8 is an error.</summary>
    public static string DecodeText(byte[] content, string source)
    {
        try
        {
            return StrictUtf8.GetString(content).TrimStart('\uFEFF');
        }
        catch (DecoderFallbackException e)
        {
            throw new InvalidDataException($"{source}: not UTF-8 text ({e.Message})", e);
        }
    }

    private static bool IsGzip(byte[] content) => content.Length >= 2 && content[0] == 0x1F && content[1] == 0x8B;

    private static byte[] Decompress(byte[] content, string source)
    {
        if (!IsGzip(content))
            return content;
        if (content.Length < SmallestGzipLength)
            throw new InvalidDataException($"{source}: gzip file of {content.Length} bytes is truncated");
        byte[] decompressed;
        try
        {
            using var gzip = new GZipStream(new MemoryStream(content), CompressionMode.Decompress);
            using var output = new MemoryStream();
            gzip.CopyTo(output);
            decompressed = output.ToArray();
        }
        catch (InvalidDataException e)
        {
            throw new InvalidDataException($"{source}: corrupt gzip data", e);
        }
        // zlib checks the trailer (CRC-32 and length) once it reaches it, but .NET's GZipStream ends quietly where a
        // truncated file ends, before any trailer. The last four bytes of a cut-off file are compressed data that
        // almost never equal the length decompressed so far. This assumes one gzip member, as gzip and Python write.
        uint recordedLength = BinaryPrimitives.ReadUInt32LittleEndian(content.AsSpan(content.Length - 4));
        if (recordedLength != (uint)decompressed.Length)
            throw new InvalidDataException($"{source}: gzip data is truncated (the content stops before the length its trailer records)");
        return decompressed;
    }
}
