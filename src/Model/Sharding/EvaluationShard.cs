using System.Text.Json;
using ReClip.Model.Eval;

namespace ReClip.Model.Sharding;

/// <summary>
/// The evaluation counts of a block of images: the confusion matrix and the space-preference score's per-bin
/// matrices as integers (<see cref="EvaluationCounts"/>), so that the shards of a split add up exactly.
/// </summary>
public sealed class EvaluationShard(EvaluationCounts counts) : ShardResult
{
    public const string KindName = "evaluation";

    public EvaluationCounts Counts { get; } = counts ?? throw new ArgumentNullException(nameof(counts));

    public override string Kind => KindName;

    public override int Images => Counts.Images;

    public override ShardResult Then(ShardResult next)
    {
        EvaluationShard other = Same<EvaluationShard>(next);
        var sum = new EvaluationCounts(Counts.Classes, Counts.Space.Bins);
        sum.Merge(Counts);
        sum.Merge(other.Counts);
        return new EvaluationShard(sum);
    }

    internal override void WriteTo(Utf8JsonWriter writer)
    {
        writer.WriteNumber("images", Counts.Images);
        writer.WriteNumber("bins", Counts.Space.Bins);
        ShardJson.WriteCounts(writer, "confusion", Counts.Metrics.Counts);
        ShardJson.WriteCounts(writer, "space", Counts.Space.Counts);
    }

    internal static EvaluationShard Parse(JsonElement result, int classes, string path)
    {
        int bins = ShardJson.Int32(result, "bins", path);
        if (bins < 1)
            throw new InvalidDataException($"{path}: 'bins' is {bins}; the space-preference score needs at least one distance bin");
        var counts = new EvaluationCounts(classes, bins);
        counts.Add(ShardJson.Counts(result, "confusion", classes * classes, path), ShardJson.Counts(result, "space", checked(bins * classes * classes), path),
            ShardJson.Int32(result, "images", path));
        return new EvaluationShard(counts);
    }
}
