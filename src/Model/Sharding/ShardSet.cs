using System.Globalization;

namespace ReClip.Model.Sharding;

/// <summary>The merged result of a complete set of shards: the common identity, the result of the whole split, and the summed seconds.</summary>
public sealed record MergedShards(ShardIdentity Identity, ShardResult Result, double Seconds);

/// <summary>
/// Combines the shard files of one run into the result of the whole split. The set must be complete and
/// consistent: every file from the same run (same <see cref="ShardIdentity"/> and the same n), each index 0..n−1
/// exactly once. Anything else is refused naming the files, since a merge of a partial or mixed set would look
/// like a result over the whole split.
/// </summary>
public static class ShardSet
{
    public static MergedShards Merge(IReadOnlyList<ShardFile> shards)
    {
        ArgumentNullException.ThrowIfNull(shards);
        if (shards.Count == 0)
            throw new ArgumentException("no shard files to merge", nameof(shards));
        ShardFile reference = shards[0];
        foreach (ShardFile shard in shards)
        {
            if (reference.Identity.Difference(shard.Identity, reference.Path, shard.Path) is string difference)
                throw new ArgumentException($"{shard.Path} is from another run than {reference.Path}: {difference}");
            if (shard.Shard.Count != reference.Shard.Count)
                throw new ArgumentException($"{shard.Path} is shard {shard.Shard} but {reference.Path} is {reference.Shard}: the shards of one run share n");
        }
        int count = reference.Shard.Count;
        var byIndex = new ShardFile?[count];
        foreach (ShardFile shard in shards)
        {
            if (byIndex[shard.Shard.Index] is ShardFile earlier)
                throw new ArgumentException($"{earlier.Path} and {shard.Path} are both shard {shard.Shard}: give each shard once");
            byIndex[shard.Shard.Index] = shard;
        }
        int[] missing = [.. Enumerable.Range(0, count).Where(i => byIndex[i] is null)];
        if (missing.Length > 0)
            throw new ArgumentException(string.Create(CultureInfo.InvariantCulture,
                $"incomplete set: shard{(missing.Length > 1 ? "s" : "")} {string.Join(", ", missing.Select(i => $"{i}/{count}"))} missing ({shards.Count} of {count} given); run {(missing.Length > 1 ? "them" : "it")} with --shard and merge again"));
        ShardResult result = byIndex[0]!.Result;
        double seconds = byIndex[0]!.Seconds;
        for (int i = 1; i < count; i++)
        {
            result = result.Then(byIndex[i]!.Result);
            seconds += byIndex[i]!.Seconds;
        }
        return new MergedShards(reference.Identity, result, seconds);
    }
}
