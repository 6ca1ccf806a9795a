using System.CommandLine;
using ReClip.Model.Sharding;

namespace ReClip.Cli.Commands;

/// <summary>`--shard i/n`: run one contiguous block of the split and write a partial result for `reclip merge` (docs/SCALING.md).</summary>
public static class ShardOption
{
    public static Option<DatasetShard?> Create() => new("--shard")
    {
        Description = "i/n: only shard i (0-based) of n contiguous blocks of the split; --out then gets a partial result for `reclip merge`.",
        CustomParser = result =>
        {
            DatasetShard? shard = DatasetShard.TryParse(result.Tokens[0].Value, out string? error);
            if (shard is null)
                result.AddError($"--shard {error}");
            return shard;
        },
    };
}
