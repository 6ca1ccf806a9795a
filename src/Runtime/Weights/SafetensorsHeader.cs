using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Unicode;
using ReClip.Runtime.IO;
using ReClip.Runtime.Tensors;

namespace ReClip.Runtime.Weights;

/// <summary>
/// The JSON index at the head of a safetensors file, read token by token with <see cref="Utf8JsonReader"/>:
/// every structural fault gets its own message, and a name given twice is caught (a DOM or a deserializer
/// would silently keep the last one, so two readers could disagree about which bytes a tensor is).
/// </summary>
internal sealed class SafetensorsHeader
{
    public const string MetadataKey = "__metadata__";

    /// <summary>
    /// The metadata entry in which <see cref="SafetensorsWriter"/> records the data section's CRC-32 (8 lower-case hex
    /// digits, zlib's CRC-32 of every byte after the header), checked by <see cref="SafetensorsFile"/> when present.
    /// </summary>
    public const string DataCrc32Key = "data_crc32";

    public static string FormatCrc32(uint crc) => crc.ToString("x8", CultureInfo.InvariantCulture);

    // The deepest valid header is root object > entry object > shape array; the cap stops hostile nesting
    // long before it costs anything, and a valid file never comes near it.
    private const int MaxDepth = 8;

    private readonly string path;
    private readonly long dataLength;
    private readonly HashSet<string> names = new(StringComparer.Ordinal);
    private readonly List<SafetensorsEntry> entries = [];
    private readonly Dictionary<string, string> metadata = new(StringComparer.Ordinal);

    private SafetensorsHeader(string path, long dataLength)
    {
        this.path = path;
        this.dataLength = dataLength;
    }

    /// <summary>Tensors in the order the header lists them; each checked on its own against the data section.</summary>
    public IReadOnlyList<SafetensorsEntry> Entries => entries;

    public IReadOnlyDictionary<string, string> Metadata => metadata;

    public static SafetensorsHeader Parse(string path, ReadOnlySpan<byte> json, long dataLength)
    {
        var header = new SafetensorsHeader(path, dataLength);
        if (!Utf8.IsValid(json))
            throw header.Fail("header is not valid UTF-8");
        var reader = new Utf8JsonReader(json, new JsonReaderOptions { MaxDepth = MaxDepth });
        try
        {
            header.ReadRoot(ref reader);
        }
        catch (JsonException e)
        {
            throw new WeightFileException(path, $"header is not valid JSON: {JsonErrorText.Of(e)}", inner: e);
        }
        return header;
    }

    private void ReadRoot(ref Utf8JsonReader reader)
    {
        reader.Read();
        if (reader.TokenType != JsonTokenType.StartObject)
            throw Fail($"header is {Describe(reader.TokenType)}, not a JSON object");
        while (NextProperty(ref reader))
        {
            string name = ReadString(ref reader);
            if (!names.Add(name))
                throw name == MetadataKey ? Fail($"'{MetadataKey}' appears twice in the header") : Fail("the name appears twice in the header", name);
            reader.Read();
            if (name == MetadataKey)
                ReadMetadata(ref reader);
            else
                entries.Add(ReadEntry(ref reader, name));
        }
        // Reading past the closing brace makes the reader reject anything but whitespace after it.
        reader.Read();
    }

    private void ReadMetadata(ref Utf8JsonReader reader)
    {
        if (reader.TokenType != JsonTokenType.StartObject)
            throw Fail($"'{MetadataKey}' is {Describe(reader.TokenType)}, not an object of strings");
        while (NextProperty(ref reader))
        {
            string key = ReadString(ref reader);
            reader.Read();
            if (reader.TokenType != JsonTokenType.String)
                throw Fail($"metadata value for '{key}' is {Describe(reader.TokenType)}, not a string");
            if (!metadata.TryAdd(key, ReadString(ref reader)))
                throw Fail($"metadata key '{key}' appears twice");
        }
    }

    private SafetensorsEntry ReadEntry(ref Utf8JsonReader reader, string name)
    {
        if (reader.TokenType != JsonTokenType.StartObject)
            throw Fail($"entry is {Describe(reader.TokenType)}, not an object", name);
        SafetensorsDType? dtype = null;
        int[]? shape = null;
        long[]? offsets = null;
        while (NextProperty(ref reader))
        {
            string field = ReadString(ref reader);
            reader.Read();
            switch (field)
            {
                case "dtype": dtype = dtype is null ? ReadDType(ref reader, name) : throw Repeated(field, name); break;
                case "shape": shape = shape is null ? ReadShape(ref reader, name) : throw Repeated(field, name); break;
                case "data_offsets": offsets = offsets is null ? ReadOffsets(ref reader, name) : throw Repeated(field, name); break;
                default: throw Fail($"unexpected field '{field}' (only dtype, shape and data_offsets are allowed)", name);
            }
        }
        if (dtype is null) throw Fail("missing field 'dtype'", name);
        if (shape is null) throw Fail("missing field 'shape'", name);
        if (offsets is null) throw Fail("missing field 'data_offsets'", name);
        return Checked(new SafetensorsEntry(name, dtype.Value, shape, offsets[0], offsets[1]));
    }

    private SafetensorsDType ReadDType(ref Utf8JsonReader reader, string name)
    {
        if (reader.TokenType != JsonTokenType.String)
            throw Fail($"dtype is {Describe(reader.TokenType)}, not a string", name);
        string text = ReadString(ref reader);
        return SafetensorsDTypes.TryParse(text, out SafetensorsDType dtype) ? dtype : throw Fail($"unknown dtype '{text}'", name);
    }

    private int[] ReadShape(ref Utf8JsonReader reader, string name)
    {
        if (reader.TokenType != JsonTokenType.StartArray)
            throw Fail($"shape is {Describe(reader.TokenType)}, not an array", name);
        var dims = new List<int>();
        while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
        {
            long dim = ReadNonNegativeInteger(ref reader, "shape dimension", name);
            if (dim > int.MaxValue)
                throw Fail($"shape dimension {dim} exceeds {int.MaxValue}", name);
            dims.Add((int)dim);
        }
        return [.. dims];
    }

    private long[] ReadOffsets(ref Utf8JsonReader reader, string name)
    {
        if (reader.TokenType != JsonTokenType.StartArray)
            throw Fail($"data_offsets is {Describe(reader.TokenType)}, not an array", name);
        var values = new List<long>(2);
        while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
            values.Add(ReadNonNegativeInteger(ref reader, values.Count == 0 ? "data_offsets begin" : "data_offsets end", name));
        if (values.Count != 2)
            throw Fail($"data_offsets holds {values.Count} values, not 2 (begin, end)", name);
        if (values[0] > values[1])
            throw Fail($"data_offsets begin {values[0]} is after end {values[1]}", name);
        return [.. values];
    }

    /// <summary>The checks one entry can pass or fail on its own; how entries sit together is <see cref="SafetensorsLayout"/>'s job.</summary>
    private SafetensorsEntry Checked(SafetensorsEntry entry)
    {
        if (entry.DataEnd > dataLength)
            throw Fail($"data_offsets [{entry.DataBegin}, {entry.DataEnd}] reach past the end of the {dataLength}-byte data section", entry.Name);
        long needed;
        try
        {
            needed = checked(Tensors.Shape.ElementCount(entry.Shape) * entry.DType.SizeOf());
        }
        catch (OverflowException)
        {
            throw Fail($"shape {Tensors.Shape.Format(entry.Shape)} has too many elements to address", entry.Name);
        }
        if (needed != entry.ByteLength)
            throw Fail($"data_offsets cover {entry.ByteLength} bytes but a {entry.DType.HeaderName()} tensor of shape {Tensors.Shape.Format(entry.Shape)} needs {needed}", entry.Name);
        return entry;
    }

    private long ReadNonNegativeInteger(ref Utf8JsonReader reader, string what, string name)
    {
        if (reader.TokenType != JsonTokenType.Number)
            throw Fail($"{what} is {Describe(reader.TokenType)}, not an integer", name);
        if (reader.TryGetInt64(out long value))
            return value >= 0 ? value : throw Fail($"{what} {value} is negative", name);
        string raw = Encoding.UTF8.GetString(reader.ValueSpan);
        if (raw.StartsWith('-'))
            throw Fail($"{what} {raw} is negative", name);
        throw raw.AsSpan().IndexOfAny(".eE") >= 0
            ? Fail($"{what} {raw} is not an integer", name)
            : Fail($"{what} {raw} is too large", name);
    }

    /// <summary>Advances to the next property name of the current object; false at its end.</summary>
    private static bool NextProperty(ref Utf8JsonReader reader)
    {
        reader.Read();
        return reader.TokenType == JsonTokenType.PropertyName;
    }

    private string ReadString(ref Utf8JsonReader reader)
    {
        try
        {
            return reader.GetString() ?? "";
        }
        catch (InvalidOperationException e)
        {
            // Valid UTF-8 bytes can still escape a lone surrogate ("\ud800"), which no .NET string can hold faithfully.
            throw new WeightFileException(path, $"header has a string that is not valid Unicode: {e.Message}", inner: e);
        }
    }

    private static string Describe(JsonTokenType token) => token switch
    {
        JsonTokenType.StartObject => "an object",
        JsonTokenType.StartArray => "an array",
        JsonTokenType.String => "a string",
        JsonTokenType.Number => "a number",
        JsonTokenType.True or JsonTokenType.False => "a boolean",
        JsonTokenType.Null => "null",
        _ => token.ToString(),
    };

    private WeightFileException Repeated(string field, string name) => Fail($"field '{field}' appears twice", name);

    private WeightFileException Fail(string problem, string? tensorName = null) => new(path, problem, tensorName);
}
