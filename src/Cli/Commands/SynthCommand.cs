using System.CommandLine;
using ReClip.Model.Data.Synthetic;

namespace ReClip.Cli.Commands;

/// <summary>
/// `reclip synth --out DIR --count N --seed S`: writes the synthetic world in the generic folder layout. The folder
/// appears only when complete (<see cref="SyntheticDataset.Write"/>): a failure or Ctrl-C part-way leaves nothing, and
/// Ctrl-C exits with code 130.
/// </summary>
public static class SynthCommand
{
    public static Command Create()
    {
        var output = new Option<string>("--out") { Description = "New (or empty) folder to write images/, labels/, classes.txt and captions.jsonl into.", Required = true };
        var count = new Option<int>("--count")
        {
            Description = $"How many scenes, 1 to {SyntheticDataset.MaxCount} (ids have six digits).", DefaultValueFactory = _ => 100,
        };
        var seed = new Option<int>("--seed") { Description = "Seed: the same seed writes the same scenes.", DefaultValueFactory = _ => 0 };
        var size = new Option<int>("--size")
        {
            Description = $"Image side in pixels, {SyntheticWorld.MinSize} to {SyntheticWorld.MaxSize}: things are drawn for the {SyntheticWorld.DefaultSize}-pixel scene and shrink to specks on larger ones.",
            DefaultValueFactory = _ => SyntheticWorld.DefaultSize,
        };
        AcceptOnlyBetween(count, 1, SyntheticDataset.MaxCount);
        AcceptOnlyBetween(size, SyntheticWorld.MinSize, SyntheticWorld.MaxSize);
        var command = new Command("synth", "Generate the synthetic segmentation world (images, exact labels, captions).") { output, count, seed, size };
        command.SetAction((parse, cancel) => Task.FromResult(Run(parse, cancel)));
        return command;

        int Run(ParseResult parse, CancellationToken cancel)
        {
            int scenes = parse.GetValue(count);
            string folder = parse.GetRequiredValue(output);
            try
            {
                SyntheticDataset.Write(folder, scenes, parse.GetValue(seed), parse.GetValue(size), cancel: cancel);
            }
            catch (OperationCanceledException)
            {
                return Interruption.NothingWritten(folder);
            }
            Console.WriteLine($"wrote {scenes} scenes ({SyntheticClasses.Names.Count} classes) to {folder}");
            return ExitCode.Success;
        }
    }

    private static void AcceptOnlyBetween(Option<int> option, int least, int most) =>
        option.Validators.Add(result =>
        {
            if (result.Tokens is [{ } token] && int.TryParse(token.Value, out int value) && (value < least || value > most))
                result.AddError($"{option.Name} must lie in {least}..{most}, not {value}");
        });
}
