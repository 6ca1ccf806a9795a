using System.CommandLine;
using System.CommandLine.Parsing;

namespace ReClip.Cli;

/// <summary>The one-line synopsis of a command, printed after a command-line error: "usage: reclip tokenize &lt;TEXT&gt;... [options]", in the order of the command's own help.</summary>
public static class CommandLineUsage
{
    public static string Of(CommandResult command)
    {
        var path = new List<string>();
        for (CommandResult? level = command; level is not null; level = level.Parent as CommandResult)
            path.Insert(0, level.Command is RootCommand ? "reclip" : level.Command.Name);
        Command target = command.Command;
        var synopsis = new List<string>(path);
        if (target.Subcommands.Count > 0)
            synopsis.Add("<command>");
        foreach (Argument argument in target.Arguments)
            synopsis.Add(argument.Arity.MaximumNumberOfValues > 1 ? $"<{argument.Name}>..." : $"<{argument.Name}>");
        if (target.Options.Count > 0)
            synopsis.Add("[options]");
        return $"usage: {string.Join(' ', synopsis)}  (more: {string.Join(' ', path)} --help)";
    }
}
