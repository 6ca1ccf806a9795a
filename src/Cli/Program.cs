using System.CommandLine;
using ReClip.Cli;
using ReClip.Cli.Commands;

var root = new RootCommand("ReCLIP#: ReCLIP++ unsupervised semantic segmentation with a frozen CLIP, on CPU and CUDA.");
root.Subcommands.Add(InfoCommand.Create());
root.Subcommands.Add(SelfcheckCommand.Create());
root.Subcommands.Add(SynthCommand.Create());
root.Subcommands.Add(TokenizeCommand.Create());
root.Subcommands.Add(ConvertCommand.Create());
root.Subcommands.Add(FeaturesCommand.Create());

try
{
    return root.Parse(args).Invoke(new InvocationConfiguration { EnableDefaultExceptionHandler = false });
}
catch (Exception e)
{
    Console.Error.WriteLine($"reclip: {Failure.OneLine(e)}");
    return Failure.ExitCodeOf(e);
}
