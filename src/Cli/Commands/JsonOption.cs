using System.CommandLine;

namespace ReClip.Cli.Commands;

/// <summary>The shared `--json` switch: machine-readable output instead of a table.</summary>
public static class JsonOption
{
    public static Option<bool> Create() => new("--json") { Description = "Print the result as JSON." };
}
