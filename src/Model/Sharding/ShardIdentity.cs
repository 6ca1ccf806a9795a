using System.Globalization;
using System.Text.Json;
using ReClip.Model.Data.Datasets;
using ReClip.Runtime.IO;

namespace ReClip.Model.Sharding;

/// <summary>
/// What every shard of one run must share, so that their partial results add up to that run: the kind of result,
/// the CLIP weights (SHA-256 and size of the file, not its path, which may differ between machines), the BPE
/// vocabulary, the class names, the dataset preset, its root and split, the number of samples and a SHA-256 of
/// their ids in order, and the command's own settings (window and stride; method, checkpoint, denoising ...).
/// </summary>
public sealed record ShardIdentity(
    string Kind,
    string WeightsSha256,
    long WeightsBytes,
    string Vocabulary,
    IReadOnlyList<string> Classes,
    string Preset,
    string Root,
    string Split,
    int Files,
    string FilesSha256,
    IReadOnlyList<KeyValuePair<string, string>> Settings)
{
    /// <summary>The identity of a run of <paramref name="kind"/> with the weights file at <paramref name="weightsPath"/> over <paramref name="dataset"/>.</summary>
    public static ShardIdentity Of(string kind, string weightsPath, string vocabulary, SegmentationDataset dataset, IReadOnlyList<KeyValuePair<string, string>> settings)
    {
        ArgumentNullException.ThrowIfNull(kind);
        ArgumentNullException.ThrowIfNull(weightsPath);
        ArgumentNullException.ThrowIfNull(vocabulary);
        ArgumentNullException.ThrowIfNull(dataset);
        ArgumentNullException.ThrowIfNull(settings);
        return new ShardIdentity(kind, FileDigest.Sha256(weightsPath), new FileInfo(weightsPath).Length, vocabulary, dataset.Classes, dataset.Preset.Name,
            Path.GetFullPath(dataset.Root), dataset.Split, dataset.Samples.Count, dataset.SampleDigest, settings);
    }

    /// <summary>The value of a setting this identity was made with.</summary>
    public string Setting(string name) =>
        Settings.FirstOrDefault(s => s.Key == name).Value ?? throw new InvalidDataException($"the shards have no '{name}' setting");

    /// <summary>The first field in which <paramref name="other"/> differs from this, as "name is X here but Y there"; null when they agree.</summary>
    public string? Difference(ShardIdentity other, string here, string there)
    {
        ArgumentNullException.ThrowIfNull(other);
        Dictionary<string, string> mine = Fields(), theirs = other.Fields();
        foreach (string name in mine.Keys.Union(theirs.Keys))
        {
            string a = mine.GetValueOrDefault(name, "(none)"), b = theirs.GetValueOrDefault(name, "(none)");
            if (a != b)
                return $"{name} is {Shorten(b)} in {there} but {Shorten(a)} in {here}";
        }
        return null;
    }

    internal void WriteTo(Utf8JsonWriter writer)
    {
        writer.WriteStartObject("identity");
        writer.WriteString("kind", Kind);
        writer.WriteString("weights_sha256", WeightsSha256);
        writer.WriteNumber("weights_bytes", WeightsBytes);
        writer.WriteString("vocabulary", Vocabulary);
        writer.WriteStartArray("classes");
        foreach (string name in Classes)
            writer.WriteStringValue(name);
        writer.WriteEndArray();
        writer.WriteString("preset", Preset);
        writer.WriteString("root", Root);
        writer.WriteString("split", Split);
        writer.WriteNumber("files", Files);
        writer.WriteString("files_sha256", FilesSha256);
        writer.WriteStartObject("settings");
        foreach ((string name, string value) in Settings)
            writer.WriteString(name, value);
        writer.WriteEndObject();
        writer.WriteEndObject();
    }

    internal static ShardIdentity Parse(JsonElement file, string path)
    {
        JsonElement e = ShardJson.Member(file, "identity", JsonValueKind.Object, path);
        string[] classes = [.. ShardJson.Member(e, "classes", JsonValueKind.Array, path).EnumerateArray()
            .Select(c => c.ValueKind == JsonValueKind.String ? c.GetString()! : throw new InvalidDataException($"{path}: a class name is not a string"))];
        KeyValuePair<string, string>[] settings = [.. ShardJson.Member(e, "settings", JsonValueKind.Object, path).EnumerateObject()
            .Select(s => KeyValuePair.Create(s.Name, s.Value.ValueKind == JsonValueKind.String ? s.Value.GetString()! : throw new InvalidDataException($"{path}: setting '{s.Name}' is not a string")))];
        return new ShardIdentity(ShardJson.String(e, "kind", path), ShardJson.String(e, "weights_sha256", path), ShardJson.Count(e, "weights_bytes", path),
            ShardJson.String(e, "vocabulary", path), classes, ShardJson.String(e, "preset", path), ShardJson.String(e, "root", path),
            ShardJson.String(e, "split", path), ShardJson.Int32(e, "files", path), ShardJson.String(e, "files_sha256", path), settings);
    }

    /// <summary>Every field as text, settings under their own names, for comparing two identities field by field.</summary>
    private Dictionary<string, string> Fields()
    {
        var fields = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            ["kind"] = Kind,
            ["weights"] = string.Create(CultureInfo.InvariantCulture, $"sha256 {WeightsSha256} ({WeightsBytes} bytes)"),
            ["vocabulary"] = Vocabulary,
            ["classes"] = string.Join(", ", Classes.Select(c => $"'{c}'")),
            ["preset"] = Preset,
            ["dataset root"] = Root,
            ["split"] = Split,
            ["files"] = Files.ToString(CultureInfo.InvariantCulture),
            ["file list"] = $"sha256 {FilesSha256}",
        };
        foreach ((string name, string value) in Settings)
            fields[$"setting {name}"] = value;
        return fields;
    }

    private static string Shorten(string value) => value.Length <= 120 ? value : value[..117] + "...";
}
