using System.CommandLine;
using ReClip.Model.Data.Synthetic;

namespace ReClip.Cli.Commands;

/// <summary>`reclip synth --out DIR --count N --seed S`: writes the synthetic world in the generic folder layout.</summary>
public static class SynthCommand
{
    public static Command Create()
    {
        var output = new Option<string>("--out") { Description = "Folder to write images/, labels/, classes.txt and captions.jsonl into.", Required = true };
        var count = new Option<int>("--count") { Description = "How many scenes.", DefaultValueFactory = _ => 100 };
        var seed = new Option<int>("--seed") { Description = "Seed: the same seed writes the same scenes.", DefaultValueFactory = _ => 0 };
        var size = new Option<int>("--size") { Description = "Image side in pixels (at least 64).", DefaultValueFactory = _ => SyntheticWorld.DefaultSize };
        var command = new Command("synth", "Generate the synthetic segmentation world (images, exact labels, captions).") { output, count, seed, size };
        command.SetAction(parse =>
        {
            int scenes = parse.GetValue(count);
            if (scenes <= 0) throw new ArgumentException($"--count must be positive, got {scenes}");
            if (parse.GetValue(size) < 64) throw new ArgumentException($"--size must be at least 64, got {parse.GetValue(size)}");
            string folder = parse.GetValue(output)!;
            SyntheticDataset.Write(folder, scenes, parse.GetValue(seed), parse.GetValue(size));
            Console.WriteLine($"wrote {scenes} scenes ({SyntheticClasses.Names.Count} classes) to {folder}");
            return ExitCode.Success;
        });
        return command;
    }
}
