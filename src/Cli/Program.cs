using System.CommandLine;
using System.CommandLine.Help;
using System.CommandLine.Parsing;
using ReClip.Cli;
using ReClip.Cli.Commands;
using ReClip.Runtime.Cuda;
using ReClip.Runtime.Memory;
using ReClip.Runtime.Platform;

var root = new RootCommand("ReCLIP#: ReCLIP++ unsupervised semantic segmentation with a frozen CLIP, on CPU and CUDA.");
root.Subcommands.Add(DemoCommand.Create());
root.Subcommands.Add(InfoCommand.Create());
root.Subcommands.Add(SelfcheckCommand.Create());
root.Subcommands.Add(SynthCommand.Create());
root.Subcommands.Add(TokenizeCommand.Create());
root.Subcommands.Add(ConvertCommand.Create());
root.Subcommands.Add(FeaturesCommand.Create());
root.Subcommands.Add(HypothesizeCommand.Create());
root.Subcommands.Add(TrainCommand.Create());
root.Subcommands.Add(EvalCommand.Create());
root.Subcommands.Add(SegmentCommand.Create());
root.Subcommands.Add(MergeCommand.Create());
root.Subcommands.Add(BenchCommand.Create());
var debugKernels = new Option<bool>("--debug-kernels")
{
    Description = $"Print each CUDA kernel's source, NVRTC options and compile log to stderr as it is compiled (as {KernelCache.DebugVariable}=1 does).",
    Recursive = true,
};
root.Options.Add(debugKernels);

try
{
    // Checked before any command starts the compute pool, so a bad value is refused on its own line.
    _ = CpuInfo.Threads;
    ParseResult parse = root.Parse(args);
    // System.CommandLine's default prints the whole help to stdout after the errors, which a script piping
    // --json output would read as data: we print each error and the command's usage line to stderr instead.
    if (parse.Errors.Count > 0 && parse.Action is not HelpAction)
    {
        foreach (ParseError error in parse.Errors)
            Console.Error.WriteLine($"reclip: {ParseErrorText.Of(error)}");
        Console.Error.WriteLine(CommandLineUsage.Of(parse.CommandResult));
        return ExitCode.BadInput;
    }
    if (parse.GetValue(debugKernels))
        KernelCache.Debug = true;
    return parse.Invoke(new InvocationConfiguration { EnableDefaultExceptionHandler = false });
}
catch (Exception e)
{
    // After running out of memory the pool still caches the blocks the failed command released; hand them back
    // first, or the console's first write (which allocates) fails too and the process aborts without a message.
    if (e is OutOfMemoryException)
        HostMemoryPool.Shared.Trim();
    Console.Error.WriteLine($"reclip: {Failure.OneLine(e)}");
    return Failure.ExitCodeOf(e);
}
