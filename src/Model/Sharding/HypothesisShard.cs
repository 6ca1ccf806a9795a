using System.Text.Json;

namespace ReClip.Model.Sharding;

/// <summary>
/// The hypotheses of a block of images (spec §8), in sample order and each in order of first appearance as the
/// hypothesis file holds them, with the window and empty-image counts the report sums up.
/// </summary>
public sealed class HypothesisShard(IReadOnlyList<int[]> hypotheses, long windows, int empty) : ShardResult
{
    public const string KindName = "hypothesis";

    public IReadOnlyList<int[]> Hypotheses { get; } = hypotheses ?? throw new ArgumentNullException(nameof(hypotheses));

    /// <summary>Windows classified over the block.</summary>
    public long Windows { get; } = windows;

    /// <summary>Images with no window (an empty hypothesis).</summary>
    public int Empty { get; } = empty;

    public override string Kind => KindName;

    public override int Images => Hypotheses.Count;

    public override ShardResult Then(ShardResult next)
    {
        HypothesisShard other = Same<HypothesisShard>(next);
        return new HypothesisShard([.. Hypotheses, .. other.Hypotheses], checked(Windows + other.Windows), checked(Empty + other.Empty));
    }

    internal override void WriteTo(Utf8JsonWriter writer)
    {
        writer.WriteNumber("windows", Windows);
        writer.WriteNumber("empty", Empty);
        writer.WriteStartArray("hypotheses");
        foreach (int[] classes in Hypotheses)
        {
            writer.WriteStartArray();
            foreach (int c in classes)
                writer.WriteNumberValue(c);
            writer.WriteEndArray();
        }
        writer.WriteEndArray();
    }

    internal static HypothesisShard Parse(JsonElement result, int classes, string path)
    {
        var hypotheses = new List<int[]>();
        foreach (JsonElement line in ShardJson.Member(result, "hypotheses", JsonValueKind.Array, path).EnumerateArray())
        {
            string where = $"{path}: hypothesis {hypotheses.Count}";
            if (line.ValueKind != JsonValueKind.Array)
                throw new InvalidDataException($"{where} is not an array of class ids");
            int[] ids = [.. line.EnumerateArray().Select(id => id.ValueKind == JsonValueKind.Number && id.TryGetInt32(out int c) && c >= 0 && c < classes ? c
                : throw new InvalidDataException($"{where}: '{id.GetRawText()}' is not a class id in [0, {classes})"))];
            if (ids.Distinct().Count() != ids.Length)
                throw new InvalidDataException($"{where} lists a class twice");
            hypotheses.Add(ids);
        }
        return new HypothesisShard(hypotheses, ShardJson.Count(result, "windows", path), ShardJson.Int32(result, "empty", path));
    }
}
