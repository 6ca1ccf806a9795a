using System.Text.Json;

namespace ReClip.Model.Sharding;

/// <summary>Typed reads of a shard file's JSON: a missing or mistyped member is an error naming the file and the member.</summary>
internal static class ShardJson
{
    public static JsonElement Member(JsonElement parent, string name, JsonValueKind kind, string path)
    {
        if (parent.ValueKind != JsonValueKind.Object || !parent.TryGetProperty(name, out JsonElement value) || value.ValueKind != kind)
            throw new InvalidDataException($"{path}: '{name}' is missing or not a JSON {kind.ToString().ToLowerInvariant()} (not a complete shard file)");
        return value;
    }

    public static string String(JsonElement parent, string name, string path) => Member(parent, name, JsonValueKind.String, path).GetString()!;

    public static long Int64(JsonElement parent, string name, string path) =>
        Member(parent, name, JsonValueKind.Number, path).TryGetInt64(out long value) ? value
            : throw new InvalidDataException($"{path}: '{name}' is not an integer");

    public static int Int32(JsonElement parent, string name, string path)
    {
        long value = Count(parent, name, path);
        return value <= int.MaxValue ? (int)value : throw new InvalidDataException($"{path}: '{name}' is {value}, not a count");
    }

    /// <summary>A non-negative 64-bit count.</summary>
    public static long Count(JsonElement parent, string name, string path)
    {
        long value = Int64(parent, name, path);
        return value >= 0 ? value : throw new InvalidDataException($"{path}: '{name}' is {value}, not a count");
    }

    public static double Double(JsonElement parent, string name, string path) => Member(parent, name, JsonValueKind.Number, path).GetDouble();

    /// <summary>An array of non-negative 64-bit counts of the given length.</summary>
    public static long[] Counts(JsonElement parent, string name, int length, string path)
    {
        JsonElement array = Member(parent, name, JsonValueKind.Array, path);
        if (array.GetArrayLength() != length)
            throw new InvalidDataException($"{path}: '{name}' has {array.GetArrayLength()} counts, expected {length}");
        var counts = new long[length];
        int i = 0;
        foreach (JsonElement item in array.EnumerateArray())
        {
            counts[i] = item.ValueKind == JsonValueKind.Number && item.TryGetInt64(out long count) && count >= 0 ? count
                : throw new InvalidDataException($"{path}: '{name}'[{i}] is '{item.GetRawText()}', not a pixel count");
            i++;
        }
        return counts;
    }

    public static void WriteCounts(Utf8JsonWriter writer, string name, ReadOnlySpan<long> counts)
    {
        writer.WriteStartArray(name);
        foreach (long count in counts)
            writer.WriteNumberValue(count);
        writer.WriteEndArray();
    }
}
