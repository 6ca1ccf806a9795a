using System.Text.Json;

namespace ReClip.Model.Sharding;

/// <summary>
/// The partial result of one shard, in a form that merges exactly: hypothesis lines are concatenated, evaluation
/// counts are integers and add up. Merging the shards in index order gives what one run over the whole split gives.
/// </summary>
public abstract class ShardResult
{
    /// <summary>The identity kind of runs that produce this result.</summary>
    public abstract string Kind { get; }

    /// <summary>How many samples the result covers.</summary>
    public abstract int Images { get; }

    /// <summary>This result followed by the next shard's (in index order) as one result.</summary>
    public abstract ShardResult Then(ShardResult next);

    internal abstract void WriteTo(Utf8JsonWriter writer);

    /// <summary>The result member of a shard file made by a run of <paramref name="identity"/>.</summary>
    internal static ShardResult Parse(ShardIdentity identity, JsonElement result, string path) => identity.Kind switch
    {
        HypothesisShard.KindName => HypothesisShard.Parse(result, identity.Classes.Count, path),
        EvaluationShard.KindName => EvaluationShard.Parse(result, identity.Classes.Count, path),
        _ => throw new InvalidDataException($"{path}: unknown shard kind '{identity.Kind}' (expected {HypothesisShard.KindName} or {EvaluationShard.KindName})"),
    };

    /// <summary>Checks that <paramref name="next"/> is a result of the same kind.</summary>
    protected T Same<T>(ShardResult next) where T : ShardResult =>
        next as T ?? throw new ArgumentException($"a {next?.Kind} shard cannot follow a {Kind} shard", nameof(next));
}
