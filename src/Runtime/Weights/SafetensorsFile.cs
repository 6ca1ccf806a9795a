using System.Buffers.Binary;
using System.Globalization;
using ReClip.Runtime.IO;
using ReClip.Runtime.Memory;
using ReClip.Runtime.Tensors;

namespace ReClip.Runtime.Weights;

/// <summary>
/// A safetensors file (huggingface/safetensors): an 8-byte little-endian header length, a JSON header, then
/// the raw little-endian tensor bytes. <see cref="Open"/> maps the file and validates the whole header;
/// <see cref="Load"/> returns views of the mapping, no bytes copied, except for F64 and I64, which are
/// narrowed into fresh 32-bit tensors. Every view holds a lease on the mapping, so a loaded tensor stays valid
/// after this object is disposed, and the file is unmapped when this object and the last view are gone.
/// </summary>
public sealed unsafe class SafetensorsFile : IWeightFile
{
    /// <summary>The reference implementation's MAX_HEADER_SIZE: a bigger header is corrupt or hostile, not a model.</summary>
    public const long MaxHeaderLength = 100_000_000;

    private const int HeaderLengthBytes = sizeof(ulong);

    private readonly ReadOnlyMapping mapping;
    private readonly long dataStart;
    private readonly Dictionary<string, SafetensorsEntry> byName;
    private bool disposed;

    private SafetensorsFile(string path, ReadOnlyMapping mapping)
    {
        Path = path;
        this.mapping = mapping;
        ulong headerLength = BinaryPrimitives.ReadUInt64LittleEndian(mapping.Span(0, HeaderLengthBytes));
        if (headerLength > MaxHeaderLength)
            throw new WeightFileException(path, $"header length {headerLength} exceeds the {MaxHeaderLength}-byte limit");
        if (headerLength > (ulong)(mapping.Length - HeaderLengthBytes))
            throw new WeightFileException(path, $"header length {headerLength} runs past the end of the {mapping.Length}-byte file");
        dataStart = HeaderLengthBytes + (long)headerLength;
        long dataLength = mapping.Length - dataStart;
        SafetensorsHeader header = SafetensorsHeader.Parse(path, mapping.Span(HeaderLengthBytes, (int)headerLength), dataLength);
        FileEntries = SafetensorsLayout.InDataOrder(path, header.Entries, dataLength);
        byName = FileEntries.ToDictionary(entry => entry.Name, StringComparer.Ordinal);
        List<WeightEntry> loadable = [];
        foreach (SafetensorsEntry entry in FileEntries)
            if (entry.DType.LoadsAs() is DType dtype)
                loadable.Add(new WeightEntry(entry.Name, dtype, entry.Shape));
        Entries = loadable;
        Metadata = header.Metadata;
        RequireIntactData(dataLength);
    }

    public string Path { get; }

    /// <summary>The tensors <see cref="Load"/> can return, in data order, with the dtype it returns them in.</summary>
    public IReadOnlyList<WeightEntry> Entries { get; }

    /// <summary>Every tensor the header declares, in data order, with its dtype as the file spells it, loadable or not.</summary>
    public IReadOnlyList<SafetensorsEntry> FileEntries { get; }

    /// <summary>The header's <c>__metadata__</c>; empty when the file has none.</summary>
    public IReadOnlyDictionary<string, string> Metadata { get; }

    public static SafetensorsFile Open(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        ReadOnlyMapping mapping = Map(path);
        try
        {
            return new SafetensorsFile(path, mapping);
        }
        catch
        {
            mapping.Dispose();
            throw;
        }
    }

    /// <summary>Whether the header declares <paramref name="name"/>, even in a dtype <see cref="Load"/> refuses.</summary>
    public bool Contains(string name) => byName.ContainsKey(name);

    public Tensor Load(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        ObjectDisposedException.ThrowIf(disposed, this);
        if (!byName.TryGetValue(name, out SafetensorsEntry? entry))
            throw new WeightFileException(Path, "no tensor of this name in the file", name);
        byte* data = mapping.Pointer + dataStart + entry.DataBegin;
        return entry.DType switch
        {
            SafetensorsDType.F64 => NarrowingCopy.DoubleToFloat(data, entry.Shape),
            SafetensorsDType.I64 => NarrowingCopy.LongToInt(data, entry.Shape, Path, name),
            _ when entry.DType.LoadsAs() is DType dtype => View(entry, data, dtype),
            _ => throw new WeightFileException(Path, $"dtype {entry.DType.HeaderName()} is not supported (loadable: F32, F16, BF16, I32, U8, BOOL, F64, I64)", name),
        };
    }

    /// <summary>The data section's CRC-32 was checked on opening, when the file records one.</summary>
    public string? VerifyChecksums() => Metadata.ContainsKey(SafetensorsHeader.DataCrc32Key) ? "the data section's CRC-32" : null;

    public void Dispose()
    {
        if (disposed) return;
        disposed = true;
        mapping.Dispose();
    }

    /// <summary>
    /// A file that records its data section's CRC-32 (every file <see cref="SafetensorsWriter"/> writes) is checked
    /// against it: one pass over the mapping, which the tensors' first use would page in anyway. Files of other
    /// writers carry none and are read as they are.
    /// </summary>
    private void RequireIntactData(long dataLength)
    {
        if (!Metadata.TryGetValue(SafetensorsHeader.DataCrc32Key, out string? recorded))
            return;
        if (recorded.Length != 8 || !uint.TryParse(recorded, NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out uint expected))
            throw new WeightFileException(Path, $"metadata '{SafetensorsHeader.DataCrc32Key}' is '{recorded}', not a CRC-32 of 8 hexadecimal digits");
        uint actual = ContentCrc32.Of(mapping.Pointer + dataStart, dataLength);
        if (actual != expected)
            throw new WeightFileException(Path,
                $"the data section fails its CRC-32 check ({dataLength} bytes give {SafetensorsHeader.FormatCrc32(actual)}, the header says {recorded}): the file is corrupt, or another tool rewrote it keeping the header's '{SafetensorsHeader.DataCrc32Key}'");
    }

    /// <summary>
    /// A tensor over the mapped bytes themselves. It is as aligned as the file makes it: a header padded to
    /// 8 bytes and tensors ordered by decreasing element size (what <see cref="SafetensorsWriter"/> and the
    /// reference writer produce) give every tensor an address that is a multiple of its element size.
    /// </summary>
    private Tensor View(SafetensorsEntry entry, byte* data, DType dtype)
    {
        HostStorage storage = HostStorage.Borrow(data, entry.ByteLength, mapping.Lease());
        return Tensor.OnStorage(storage, 0, entry.Shape, dtype);
    }

    private static ReadOnlyMapping Map(string path)
    {
        try
        {
            long length = new FileInfo(path).Length;
            if (length < HeaderLengthBytes)
                throw new WeightFileException(path, $"the file is {length} bytes, shorter than the 8-byte header length every safetensors file starts with");
            return ReadOnlyMapping.Open(path, length);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new WeightFileException(path, $"cannot open: {e.Message}", inner: e);
        }
    }
}
