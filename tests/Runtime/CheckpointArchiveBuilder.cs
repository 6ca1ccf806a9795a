using System.Buffers.Binary;
using System.IO.Compression;
using System.Text;

namespace ReClip.Tests.Runtime;

/// <summary>
/// Writes small zip checkpoints laid out like torch.save's (<c>archive/data.pkl</c>, <c>archive/data/N</c>),
/// and the malformed variants of them the tests need, into a temporary folder removed on dispose.
/// </summary>
internal sealed class CheckpointArchiveBuilder : IDisposable
{
    private readonly string folder = Directory.CreateTempSubdirectory("reclip-torch-test-").FullName;
    private int files;

    /// <summary>A valid checkpoint: {"weight": a 2×2 float32 tensor over data/0 holding 1, 2, 3, 4}.</summary>
    public static byte[] TwoByTwoPickle(string key = "0", long numel = 4, long offset = 0) =>
        new PickleAssembler().Proto().EmptyDict().Mark().String("weight")
            .FloatTensor(key, numel, offset, [2, 2], [2, 1]).SetItems().Stop().ToArray();

    public static byte[] OneToFour { get; } = [.. new float[] { 1, 2, 3, 4 }.SelectMany(BitConverter.GetBytes)];

    public string Write(params (string Name, byte[] Content)[] entries) => Write(CompressionLevel.NoCompression, entries);

    public string Write(CompressionLevel level, params (string Name, byte[] Content)[] entries)
    {
        string path = Path.Combine(folder, $"checkpoint{files++}.pt");
        using (var archive = new ZipArchive(File.Create(path), ZipArchiveMode.Create))
        {
            foreach ((string name, byte[] content) in entries)
            {
                using Stream stream = archive.CreateEntry(name, level).Open();
                stream.Write(content);
            }
        }
        return path;
    }

    public string WriteRaw(byte[] content)
    {
        string path = Path.Combine(folder, $"raw{files++}.pt");
        File.WriteAllBytes(path, content);
        return path;
    }

    /// <summary>Overwrites the uncompressed size that the central directory declares for <paramref name="entryName"/>.</summary>
    public static void DeclareUncompressedSize(string path, string entryName, uint size) => PatchDirectoryEntry(path, entryName, 24, size);

    /// <summary>Overwrites the CRC-32 that the central directory records for <paramref name="entryName"/>'s content.</summary>
    public static void DeclareCrc32(string path, string entryName, uint crc) => PatchDirectoryEntry(path, entryName, 16, crc);

    /// <summary>Flips one bit of the first occurrence of <paramref name="content"/> in the file, as a bad disk or copy would.</summary>
    public static void FlipBitIn(string path, byte[] content, int byteIndex)
    {
        byte[] zip = File.ReadAllBytes(path);
        int at = zip.AsSpan().IndexOf(content);
        if (at < 0)
            throw new ArgumentException($"{path} does not hold the given bytes");
        zip[at + byteIndex] ^= 0x10;
        File.WriteAllBytes(path, zip);
    }

    private static void PatchDirectoryEntry(string path, string entryName, int field, uint value)
    {
        byte[] zip = File.ReadAllBytes(path);
        byte[] signature = [0x50, 0x4b, 0x01, 0x02];
        byte[] name = Encoding.ASCII.GetBytes(entryName);
        for (int at = 0; at + 46 <= zip.Length; at++)
        {
            if (!zip.AsSpan(at, 4).SequenceEqual(signature) || !zip.AsSpan(at + 46).StartsWith(name))
                continue;
            BinaryPrimitives.WriteUInt32LittleEndian(zip.AsSpan(at + field), value);
            File.WriteAllBytes(path, zip);
            return;
        }
        throw new ArgumentException($"{path} has no central directory entry '{entryName}'");
    }

    /// <summary>
    /// Rewrites every central directory entry the way a zip over 4 GiB needs it: sizes and local header offset
    /// set to 0xFFFFFFFF, their real values in a zip64 extra field. Assumes an archive without a comment.
    /// </summary>
    public static void MoveSizesToZip64Fields(string path)
    {
        byte[] zip = File.ReadAllBytes(path);
        int end = zip.Length - 22;
        int count = BinaryPrimitives.ReadUInt16LittleEndian(zip.AsSpan(end + 10));
        int directory = (int)BinaryPrimitives.ReadUInt32LittleEndian(zip.AsSpan(end + 16));
        var rewritten = new List<byte>();
        for (int i = 0, at = directory; i < count; i++)
        {
            byte[] header = zip[at..(at + 46)];
            int nameLength = BinaryPrimitives.ReadUInt16LittleEndian(header.AsSpan(28));
            int extraLength = BinaryPrimitives.ReadUInt16LittleEndian(header.AsSpan(30));
            int commentLength = BinaryPrimitives.ReadUInt16LittleEndian(header.AsSpan(32));
            byte[] zip64 = new byte[28];
            BinaryPrimitives.WriteUInt16LittleEndian(zip64, 0x0001);
            BinaryPrimitives.WriteUInt16LittleEndian(zip64.AsSpan(2), 24);
            BinaryPrimitives.WriteInt64LittleEndian(zip64.AsSpan(4), BinaryPrimitives.ReadUInt32LittleEndian(header.AsSpan(24)));
            BinaryPrimitives.WriteInt64LittleEndian(zip64.AsSpan(12), BinaryPrimitives.ReadUInt32LittleEndian(header.AsSpan(20)));
            BinaryPrimitives.WriteInt64LittleEndian(zip64.AsSpan(20), BinaryPrimitives.ReadUInt32LittleEndian(header.AsSpan(42)));
            foreach (int field in new[] { 20, 24, 42 })
                BinaryPrimitives.WriteUInt32LittleEndian(header.AsSpan(field), uint.MaxValue);
            BinaryPrimitives.WriteUInt16LittleEndian(header.AsSpan(30), (ushort)(extraLength + zip64.Length));
            int name = at + 46;
            rewritten.AddRange(header);
            rewritten.AddRange(zip[name..(name + nameLength)]);
            rewritten.AddRange(zip64);
            rewritten.AddRange(zip[(name + nameLength)..(name + nameLength + extraLength + commentLength)]);
            at = name + nameLength + extraLength + commentLength;
        }
        byte[] endRecord = zip[end..];
        BinaryPrimitives.WriteUInt32LittleEndian(endRecord.AsSpan(12), (uint)rewritten.Count);
        File.WriteAllBytes(path, [.. zip[..directory], .. rewritten, .. endRecord]);
    }

    public void Dispose() => Directory.Delete(folder, recursive: true);
}
