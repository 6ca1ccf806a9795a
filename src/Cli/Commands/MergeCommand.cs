using System.CommandLine;
using System.Globalization;
using ReClip.Model.Sharding;

namespace ReClip.Cli.Commands;

/// <summary>
/// `reclip merge OUT SHARD... [--json]`: joins the shard files of `reclip hypothesize --shard` into the hypothesis
/// file, or those of `reclip eval --shard` into the JSON report, each exactly what one run over the whole split
/// writes (the seconds are the shards' sum). Refuses an incomplete set, a shard given twice, and shards of different
/// runs (weights, vocabulary, classes, dataset, settings or n), naming the files.
/// </summary>
public static class MergeCommand
{
    public static Command Create()
    {
        Option<bool> json = JsonOption.Create();
        var output = new Argument<string>("OUT") { Description = "The hypothesis file, or the evaluation report (JSON), to write." };
        var shards = new Argument<string[]>("SHARD") { Description = "Every shard file of the run (any order).", Arity = ArgumentArity.OneOrMore };
        var command = new Command("merge", "Join the shard files of `hypothesize --shard` or `eval --shard` into the result of the whole split.")
        {
            output, shards, json,
        };
        command.SetAction(parse =>
        {
            string outputPath = parse.GetRequiredValue(output);
            string[] paths = parse.GetRequiredValue(shards);
            if (paths.FirstOrDefault(p => Path.GetFullPath(p) == Path.GetFullPath(outputPath)) is string clash)
                throw new ArgumentException($"{clash}: the output is also given as a shard; writing it would destroy that shard");
            MergedShards merged = ShardSet.Merge([.. paths.Select(ShardFile.Read)]);
            ShardIdentity identity = merged.Identity;
            switch (merged.Result)
            {
                case HypothesisShard hypotheses:
                    HypothesizeCommand.Complete(outputPath, identity.FilesSha256, identity.Preset, Integer(identity, HypothesizeCommand.WindowSetting),
                        Integer(identity, HypothesizeCommand.StrideSetting), identity.Classes.Count, hypotheses, merged.Seconds, parse.GetValue(json));
                    break;
                case EvaluationShard evaluation:
                    EvalCommand.Complete(EvalCommand.EvalRun.Of(identity), evaluation.Counts.Report(identity.Classes, merged.Seconds), outputPath, parse.GetValue(json));
                    break;
                default:
                    throw new InvalidOperationException($"no merge for {merged.Result.Kind} shards");
            }
            return ExitCode.Success;
        });
        return command;
    }

    private static int Integer(ShardIdentity identity, string setting) =>
        int.TryParse(identity.Setting(setting), NumberStyles.None, CultureInfo.InvariantCulture, out int value) && value > 0 ? value
            : throw new InvalidDataException($"the shards' setting {setting} is '{identity.Setting(setting)}', not a positive integer");
}
