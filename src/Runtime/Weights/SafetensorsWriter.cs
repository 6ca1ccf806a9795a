using System.Buffers;
using System.Buffers.Binary;
using System.IO.Hashing;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using ReClip.Runtime.IO;
using ReClip.Runtime.Tensors;

namespace ReClip.Runtime.Weights;

/// <summary>
/// Writes CPU tensors as a safetensors file that the reference implementation and <see cref="SafetensorsFile"/>
/// both accept. The header is padded with spaces to a multiple of 8 bytes and the data section holds the
/// tensors by decreasing element size (ties in the order given), as the reference writer does, so every
/// tensor of the mapped file is aligned to its element size. The file appears atomically or not at all.
/// </summary>
public static unsafe class SafetensorsWriter
{
    private const int HeaderAlignment = 8;

    // Bigger writes gain nothing, and a span cannot cover more than int.MaxValue bytes anyway.
    private const int WriteChunkBytes = 1 << 26;

    public static void Write(string path, IEnumerable<KeyValuePair<string, Tensor>> tensors, IReadOnlyDictionary<string, string>? metadata = null)
    {
        ArgumentNullException.ThrowIfNull(path);
        ArgumentNullException.ThrowIfNull(tensors);
        List<KeyValuePair<string, Tensor>> ordered = InDataOrder(path, tensors);
        byte[] header = Header(ordered, WithChecksumPlaceholder(path, metadata));
        // The checksum is of the data, which follows the header: the header goes out with a placeholder, the data is
        // hashed as it is written, and the placeholder's digits are written over at the end (one pass over the data).
        int digits = PlaceholderOffset(header);
        AtomicFile.Write(path, stream =>
        {
            Span<byte> headerLength = stackalloc byte[sizeof(ulong)];
            BinaryPrimitives.WriteUInt64LittleEndian(headerLength, (ulong)header.Length);
            stream.Write(headerLength);
            stream.Write(header);
            var crc = new Crc32();
            foreach ((_, Tensor tensor) in ordered)
                WriteData(stream, tensor, crc);
            stream.Position = sizeof(ulong) + digits;
            stream.Write(Encoding.ASCII.GetBytes(SafetensorsHeader.FormatCrc32(crc.GetCurrentHashAsUInt32())));
        });
    }

    /// <summary>Checks names and devices before anything touches the disk, and sorts by decreasing element size.</summary>
    private static List<KeyValuePair<string, Tensor>> InDataOrder(string path, IEnumerable<KeyValuePair<string, Tensor>> tensors)
    {
        var names = new HashSet<string>(StringComparer.Ordinal);
        var checkedTensors = new List<KeyValuePair<string, Tensor>>();
        foreach ((string name, Tensor tensor) in tensors)
        {
            if (name is null)
                throw Invalid(path, "a tensor has a null name");
            if (tensor is null)
                throw Invalid(path, $"tensor '{name}' is null");
            if (name == SafetensorsHeader.MetadataKey)
                throw Invalid(path, $"'{name}' is reserved for the metadata and cannot name a tensor");
            if (!names.Add(name))
                throw Invalid(path, $"tensor '{name}' is given twice");
            if (!tensor.Device.IsCpu)
                throw Invalid(path, $"tensor '{name}' lives on {tensor.Device}; copy it to the CPU with ToDevice(Device.Cpu) first");
            checkedTensors.Add(new(name, tensor));
        }
        return [.. checkedTensors.OrderByDescending(pair => pair.Value.DType.SizeOf())];
    }

    private const string Placeholder = "00000000";

    /// <summary>The caller's metadata with the checksum's entry, its digits a placeholder, last.</summary>
    private static Dictionary<string, string> WithChecksumPlaceholder(string path, IReadOnlyDictionary<string, string>? metadata)
    {
        var all = new Dictionary<string, string>(StringComparer.Ordinal);
        // A file's metadata copied into a rewrite brings the old checksum along: it is replaced by the new data's.
        foreach ((string key, string value) in metadata ?? new Dictionary<string, string>())
            if (key != SafetensorsHeader.DataCrc32Key)
                all[key] = value ?? throw Invalid(path, $"metadata value for '{key}' is null");
        all[SafetensorsHeader.DataCrc32Key] = Placeholder;
        return all;
    }

    /// <summary>
    /// Where the placeholder's digits lie in the header: after the checksum's key, which the JSON holds once unescaped (a
    /// metadata value spelling it has its quotes escaped).
    /// </summary>
    private static int PlaceholderOffset(byte[] header)
    {
        byte[] entry = Encoding.UTF8.GetBytes($"\"{SafetensorsHeader.DataCrc32Key}\":\"{Placeholder}\"");
        return header.AsSpan().IndexOf(entry) + entry.Length - Placeholder.Length - 1;
    }

    private static byte[] Header(List<KeyValuePair<string, Tensor>> ordered, IReadOnlyDictionary<string, string> metadata)
    {
        var buffer = new ArrayBufferWriter<byte>();
        // Relaxed escaping keeps non-ASCII names readable in the header, as the reference writer leaves them;
        // the HTML-safety the default encoder adds means nothing in a weight file.
        using (var json = new Utf8JsonWriter(buffer, new JsonWriterOptions { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
        {
            json.WriteStartObject();
            WriteMetadata(json, metadata);
            long offset = 0;
            foreach ((string name, Tensor tensor) in ordered)
            {
                json.WriteStartObject(name);
                json.WriteString("dtype", SafetensorsDTypes.FromDType(tensor.DType).HeaderName());
                json.WriteStartArray("shape");
                foreach (int dim in tensor.Shape)
                    json.WriteNumberValue(dim);
                json.WriteEndArray();
                json.WriteStartArray("data_offsets");
                json.WriteNumberValue(offset);
                offset += tensor.ByteLength;
                json.WriteNumberValue(offset);
                json.WriteEndArray();
                json.WriteEndObject();
            }
            json.WriteEndObject();
        }
        int padded = (buffer.WrittenCount + HeaderAlignment - 1) / HeaderAlignment * HeaderAlignment;
        byte[] header = new byte[padded];
        buffer.WrittenSpan.CopyTo(header);
        header.AsSpan(buffer.WrittenCount).Fill((byte)' ');
        return header;
    }

    private static void WriteMetadata(Utf8JsonWriter json, IReadOnlyDictionary<string, string> metadata)
    {
        json.WriteStartObject(SafetensorsHeader.MetadataKey);
        foreach ((string key, string value) in metadata)
            json.WriteString(key, value);
        json.WriteEndObject();
    }

    /// <summary>The tensor's bytes in row-major order, in spans of at most <see cref="WriteChunkBytes"/>, written and hashed.</summary>
    private static void WriteData(Stream stream, Tensor tensor, Crc32 crc)
    {
        using Tensor dense = tensor.Contiguous();
        byte* data = dense.RawPointer;
        for (long done = 0; done < dense.ByteLength; done += WriteChunkBytes)
        {
            var chunk = new ReadOnlySpan<byte>(data + done, (int)Math.Min(WriteChunkBytes, dense.ByteLength - done));
            stream.Write(chunk);
            crc.Append(chunk);
        }
    }

    private static ArgumentException Invalid(string path, string problem) => new($"{path}: {problem}");
}
